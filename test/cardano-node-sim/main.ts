// A simulated cardano-node: the parts of a block producer that cardano-forge touches. It mirrors
// dynamic block forging (credentials read at startup and re-read on SIGHUP; all three valid => forging),
// the node socket, and Prometheus metrics, and adds a control endpoint for fault injection.
// Run by Node 24 directly (type stripping), so erasable TypeScript only:
//   node_modules/.bin/node test/cardano-node-sim/main.ts run --socket-path ... --identity a --pool p1
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, ServerResponse, Server as HttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import { existsSync, rmSync, lstatSync, createReadStream, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { checkCredentialSet } from './credentials.ts';
import type { CredentialPaths } from './credentials.ts';
import { appendEvent, hostClockMs } from './events.ts';
import type { SimEventKind } from './events.ts';

/** Shelley mainnet system start: every simulator agrees on the current slot without coordination. */
const DEFAULT_SYSTEM_START_MS = Date.UTC(2020, 6, 29, 21, 44, 51);
const DEFAULT_EPOCH_LENGTH = 432_000;
/** Roughly one block every 20 slots (active slot coefficient 0.05). */
const SLOTS_PER_BLOCK = 20;
const EXIT_USAGE = 2;

export interface SimConfig {
  socketPath: string;
  credentials: CredentialPaths | undefined;
  nonProducing: boolean;
  identity: string;
  pool: string;
  eventLog: string | undefined;
  metricsPort: number;
  startDelayMs: number;
  slotLengthMs: number;
  systemStartMs: number;
  epochLength: number;
  shutdownIpcFd: number | undefined;
}

export type ParsedCommandLine =
  { ok: true; config: SimConfig } | { ok: false; reason: 'usage'; message: string };

function nonNegativeInt(name: string, raw: string | undefined, fallback: number): number | string {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    return `--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`;
  return value;
}

export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'socket-path': { type: 'string' },
        'shelley-kes-key': { type: 'string' },
        'shelley-vrf-key': { type: 'string' },
        'shelley-operational-certificate': { type: 'string' },
        'start-as-non-producing-node': { type: 'boolean', default: false },
        'shutdown-ipc': { type: 'string' },
        // Accepted like the real node so pod specs can be reused; the simulator ignores them.
        config: { type: 'string' },
        topology: { type: 'string' },
        'database-path': { type: 'string' },
        'host-addr': { type: 'string' },
        port: { type: 'string' },
        // Simulator-only flags.
        identity: { type: 'string' },
        pool: { type: 'string' },
        'event-log': { type: 'string' },
        'metrics-port': { type: 'string' },
        'start-delay-ms': { type: 'string' },
        'slot-length-ms': { type: 'string' },
        'system-start-ms': { type: 'string' },
        'epoch-length': { type: 'string' },
      },
    });
  } catch (error) {
    return { ok: false, reason: 'usage', message: (error as Error).message };
  }
  const { values, positionals } = parsed;
  if (positionals[0] !== 'run' || positionals.length !== 1) {
    return { ok: false, reason: 'usage', message: 'usage: cardano-node run --socket-path PATH [options]' };
  }
  if (values['socket-path'] === undefined)
    return { ok: false, reason: 'usage', message: '--socket-path is required' };
  const credentialFlags = [
    values['shelley-kes-key'],
    values['shelley-vrf-key'],
    values['shelley-operational-certificate'],
  ];
  const given = credentialFlags.filter((flag) => flag !== undefined).length;
  if (given !== 0 && given !== 3) {
    return {
      ok: false,
      reason: 'usage',
      message:
        'give all three of --shelley-kes-key, --shelley-vrf-key, --shelley-operational-certificate or none',
    };
  }
  const numbers = {
    metricsPort: nonNegativeInt('metrics-port', values['metrics-port'], 0),
    startDelayMs: nonNegativeInt('start-delay-ms', values['start-delay-ms'], 0),
    slotLengthMs: nonNegativeInt('slot-length-ms', values['slot-length-ms'], 1000),
    systemStartMs: nonNegativeInt('system-start-ms', values['system-start-ms'], DEFAULT_SYSTEM_START_MS),
    epochLength: nonNegativeInt('epoch-length', values['epoch-length'], DEFAULT_EPOCH_LENGTH),
    shutdownIpcFd: nonNegativeInt('shutdown-ipc', values['shutdown-ipc'], -1),
  };
  for (const value of Object.values(numbers)) {
    if (typeof value === 'string') return { ok: false, reason: 'usage', message: value };
  }
  const n = numbers as Record<keyof typeof numbers, number>;
  if (n.slotLengthMs === 0 || n.epochLength === 0)
    return { ok: false, reason: 'usage', message: 'slot length and epoch length must be > 0' };
  if (n.metricsPort > 65_535)
    return { ok: false, reason: 'usage', message: '--metrics-port must be <= 65535' };
  return {
    ok: true,
    config: {
      socketPath: values['socket-path'],
      credentials:
        given === 3
          ? {
              kesKey: values['shelley-kes-key'] as string,
              vrfKey: values['shelley-vrf-key'] as string,
              opCert: values['shelley-operational-certificate'] as string,
            }
          : undefined,
      nonProducing: values['start-as-non-producing-node'] === true,
      identity: values.identity ?? hostname(),
      pool: values.pool ?? 'pool',
      eventLog: values['event-log'],
      metricsPort: n.metricsPort,
      startDelayMs: n.startDelayMs,
      slotLengthMs: n.slotLengthMs,
      systemStartMs: n.systemStartMs,
      epochLength: n.epochLength,
      shutdownIpcFd: n.shutdownIpcFd >= 0 ? n.shutdownIpcFd : undefined,
    },
  };
}

export interface ChainPosition {
  slot: number;
  block: number;
  epoch: number;
  slotInEpoch: number;
}

export function chainPosition(
  config: Pick<SimConfig, 'systemStartMs' | 'slotLengthMs' | 'epochLength'>,
  nowMs: number,
  lagSlots: number,
): ChainPosition {
  const wallSlot = Math.floor((nowMs - config.systemStartMs) / config.slotLengthMs);
  const slot = Math.max(0, wallSlot - lagSlots);
  return {
    slot,
    block: Math.floor(slot / SLOTS_PER_BLOCK),
    epoch: Math.floor(slot / config.epochLength),
    slotInEpoch: slot % config.epochLength,
  };
}

function stdoutLine(payload: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(payload)}\n`);
}

function stderrLine(message: string): void {
  process.stderr.write(`[cardano-node-sim ${process.pid}] ${message}\n`);
}

function runSimulator(config: SimConfig): void {
  const state = {
    phase: 'starting' as 'starting' | 'running' | 'stopping',
    forging: false,
    lagSlots: 0,
    /** Injected SIGHUP handling latency: a SIGHUP takes effect this many ms after it arrives. */
    sighupDelayMs: 0,
    startedAtMs: Date.now(),
  };
  const connections = new Set<Socket>();
  let socketServer: NetServer | undefined;
  let credentialWork: Promise<void> = Promise.resolve();

  const log = (event: SimEventKind, reason: string): void => {
    stderrLine(`${event}: ${reason}`);
    if (config.eventLog === undefined) return;
    appendEvent(config.eventLog, {
      ts: hostClockMs(),
      wallMs: Date.now(),
      identity: config.identity,
      pool: config.pool,
      pid: process.pid,
      event,
      reason,
      forging: state.forging,
    });
  };

  const setForging = (forging: boolean, reason: string): void => {
    if (state.forging === forging) return;
    state.forging = forging;
    log(forging ? 'forging-on' : 'forging-off', reason);
  };

  const evaluateCredentials = async (trigger: 'startup' | 'SIGHUP'): Promise<void> => {
    if (config.credentials === undefined) {
      if (trigger === 'SIGHUP') log('sighup', 'no credential paths configured (relay); not forging');
      return;
    }
    const check = await checkCredentialSet(config.credentials);
    if (state.phase !== 'running') return;
    if (trigger === 'startup' && config.nonProducing) {
      stderrLine('started as non-producing node; forging stays off until SIGHUP');
      return;
    }
    if (trigger === 'SIGHUP')
      log(
        'sighup',
        check.valid ? 'credentials valid' : `credentials invalid (${check.reason}): ${check.message}`,
      );
    if (check.valid) setForging(true, `credentials valid at ${trigger}`);
    else setForging(false, `${trigger}: ${check.reason}: ${check.message}`);
    if (!check.valid && trigger === 'startup') stderrLine(`not forging: ${check.reason}: ${check.message}`);
  };

  // An unexpected error while reading credentials must not leave the node forging on stale keys.
  const failClosed = (error: unknown): void => {
    stderrLine(`credential check failed: ${String(error)}`);
    setForging(false, `credential check failed: ${String(error)}`);
  };

  const metricsText = (): string => {
    const position = chainPosition(config, Date.now(), state.lagSlots);
    const gauges: Array<[string, number, string]> = [
      [
        'cardano_node_metrics_forging_enabled',
        state.forging ? 1 : 0,
        'Whether block forging credentials are loaded',
      ],
      ['cardano_node_metrics_slotNum_int', position.slot, 'Slot of the tip'],
      ['cardano_node_metrics_blockNum_int', position.block, 'Block number of the tip'],
      ['cardano_node_metrics_epoch_int', position.epoch, 'Epoch of the tip'],
      ['cardano_node_metrics_slotInEpoch_int', position.slotInEpoch, 'Slot of the tip within its epoch'],
      [
        'cardano_node_metrics_nodeStartTime_int',
        Math.floor(state.startedAtMs / 1000),
        'Process start, unix seconds',
      ],
      ['cardano_node_sim_up', state.phase === 'running' ? 1 : 0, '1 once the node socket is serving'],
      ['cardano_node_sim_lag_slots', state.lagSlots, 'Injected tip lag in slots'],
      ['cardano_node_sim_sighup_delay_ms', state.sighupDelayMs, 'Injected SIGHUP handling latency in ms'],
    ];
    return gauges
      .map(([name, value, help]) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`)
      .join('');
  };

  const reply = (res: ServerResponse, status: number, body: unknown, after?: () => void): void => {
    res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
    res.end(`${JSON.stringify(body)}\n`, after);
  };

  const handleControl = (req: IncomingMessage, res: ServerResponse, url: URL): void => {
    if (url.pathname === '/control/state' && req.method === 'GET') {
      reply(res, 200, {
        ...state,
        pid: process.pid,
        identity: config.identity,
        pool: config.pool,
        ...chainPosition(config, Date.now(), state.lagSlots),
      });
      return;
    }
    if (req.method !== 'POST') {
      reply(res, 405, { error: 'use POST' });
      return;
    }
    switch (url.pathname) {
      case '/control/crash':
        // A simulated OOM kill: no cleanup, the socket file stays behind without a listener.
        // The exit line is written first because the simulator knows forging ends here.
        reply(res, 202, { crashing: true }, () => {
          if (state.forging) log('exit', 'crash (simulated SIGKILL) while forging');
          else log('exit', 'crash (simulated SIGKILL)');
          process.kill(process.pid, 'SIGKILL');
        });
        return;
      case '/control/hang': {
        const ms = url.searchParams.get('ms');
        const hangMs = ms === null ? Infinity : Number(ms);
        if (!(hangMs >= 0)) {
          reply(res, 400, { error: 'ms must be a non-negative number' });
          return;
        }
        // Blocks the main thread without burning CPU: no accept(), no HTTP answers, no signal handling.
        reply(res, 202, { hanging: true, ms: ms === null ? null : hangMs }, () => {
          setImmediate(() => {
            stderrLine(`hanging for ${ms === null ? 'ever' : `${hangMs} ms`}`);
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, hangMs);
            stderrLine('hang over');
          });
        });
        return;
      }
      case '/control/behind': {
        const slots = Number(url.searchParams.get('slots'));
        if (!Number.isInteger(slots) || slots < 0) {
          reply(res, 400, { error: 'slots must be a non-negative integer' });
          return;
        }
        state.lagSlots = slots;
        reply(res, 200, { lagSlots: slots });
        return;
      }
      case '/control/slow-sighup': {
        const ms = Number(url.searchParams.get('ms'));
        if (!Number.isInteger(ms) || ms < 0) {
          reply(res, 400, { error: 'ms must be a non-negative integer' });
          return;
        }
        state.sighupDelayMs = ms;
        reply(res, 200, { sighupDelayMs: ms });
        return;
      }
      case '/control/catchup':
        state.lagSlots = 0;
        reply(res, 200, { lagSlots: 0 });
        return;
      default:
        reply(res, 404, { error: `unknown control ${url.pathname}` });
    }
  };

  const metricsServer: HttpServer = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metricsText());
      return;
    }
    if (url.pathname.startsWith('/control/')) {
      handleControl(req, res, url);
      return;
    }
    reply(res, 404, { error: 'not found' });
  });

  const removeSocketFile = (): void => {
    try {
      if (lstatSync(config.socketPath).isSocket()) rmSync(config.socketPath, { force: true });
    } catch {
      // Already gone.
    }
  };

  const shutdown = (why: string, code: number): void => {
    if (state.phase === 'stopping') return;
    state.phase = 'stopping';
    if (state.forging) {
      state.forging = false;
      log('forging-off', `shutdown: ${why}`);
    }
    for (const connection of connections) connection.destroy();
    socketServer?.close();
    // Like the real node on a clean exit: the socket does not outlive the process.
    removeSocketFile();
    metricsServer.closeAllConnections();
    metricsServer.close();
    log('exit', `shutdown: ${why}`);
    process.exit(code);
  };

  const startNode = (): void => {
    if (state.phase !== 'starting') return;
    // The real node removes a stale socket left by a crashed predecessor before binding.
    if (existsSync(config.socketPath)) removeSocketFile();
    const server = createNetServer((connection) => {
      connections.add(connection);
      connection.on('error', () => connection.destroy());
      connection.on('close', () => connections.delete(connection));
      connection.resume();
    });
    socketServer = server;
    server.on('error', (error) => {
      stderrLine(`socket ${config.socketPath}: ${error.message}`);
      shutdown(`socket error: ${error.message}`, 1);
    });
    server.listen(config.socketPath, () => {
      state.phase = 'running';
      stdoutLine({ event: 'socket', socketPath: config.socketPath, pid: process.pid });
      credentialWork = credentialWork.then(() => evaluateCredentials('startup')).catch(failClosed);
    });
  };

  // Look like cardano-node in /proc/<pid>/comm without rewriting the argument area (process.title
  // would), so /proc/<pid>/cmdline keeps the real flags, e.g. --start-as-non-producing-node.
  try {
    writeFileSync('/proc/self/comm', 'cardano-node');
  } catch {
    process.title = 'cardano-node';
  }
  log('start', config.credentials === undefined ? 'started without credentials (relay)' : 'process started');

  process.on('SIGHUP', () => {
    if (state.phase !== 'running') {
      stderrLine('SIGHUP before the node is up: ignored, credentials are read at startup');
      return;
    }
    // Serialised so that two quick SIGHUPs apply in order. A slow node (injected delay) re-reads the
    // files when the SIGHUP takes effect, and the forging transition is logged at that moment.
    const effectiveAtMs = Date.now() + state.sighupDelayMs;
    if (state.sighupDelayMs > 0) stderrLine(`SIGHUP received; takes effect in ${state.sighupDelayMs} ms`);
    credentialWork = credentialWork
      .then(async () => {
        const waitMs = effectiveAtMs - Date.now();
        if (waitMs > 0) await new Promise((resolveDelay) => setTimeout(resolveDelay, waitMs));
        await evaluateCredentials('SIGHUP');
      })
      .catch(failClosed);
  });
  process.on('SIGTERM', () => shutdown('SIGTERM', 0));
  process.on('SIGINT', () => shutdown('SIGINT', 0));
  process.on('uncaughtException', (error) => {
    stderrLine(`uncaught: ${error.stack ?? error.message}`);
    shutdown(`uncaught exception: ${error.message}`, 1);
  });

  if (config.shutdownIpcFd !== undefined) {
    // Like the real node's --shutdown-ipc: exit cleanly when the parent's end of the pipe closes.
    const ipc =
      config.shutdownIpcFd === 0 ? process.stdin : createReadStream('', { fd: config.shutdownIpcFd });
    ipc.on('data', () => undefined);
    ipc.on('end', () => shutdown('shutdown-ipc closed', 0));
    ipc.on('error', () => shutdown('shutdown-ipc error', 0));
  }

  metricsServer.on('error', (error) => {
    stderrLine(`metrics server: ${error.message}`);
    shutdown(`metrics server error: ${error.message}`, 1);
  });
  metricsServer.listen(config.metricsPort, '127.0.0.1', () => {
    const address = metricsServer.address();
    const metricsPort = typeof address === 'object' && address !== null ? address.port : config.metricsPort;
    stdoutLine({
      event: 'ready',
      metricsPort,
      pid: process.pid,
      identity: config.identity,
      pool: config.pool,
    });
    setTimeout(startNode, config.startDelayMs);
  });
}

function main(argv: readonly string[]): void {
  const parsed = parseCommandLine(argv);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.message}\n`);
    process.exit(EXIT_USAGE);
  }
  runSimulator(parsed.config);
}

if (import.meta.main) main(process.argv.slice(2));
