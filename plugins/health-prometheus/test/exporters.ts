// Scrape targets for the integration tests besides the simulated cardano-nodes: a real node_exporter
// (when the Debian package is installed) and small exporters with fixed node_exporter-style values,
// so threshold outcomes do not depend on how busy the test machine is. Processes stop by PID.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';

export const NODE_EXPORTER_BINARY = '/usr/bin/prometheus-node-exporter';

export interface ScrapeTarget {
  /** host:port as Prometheus' static_configs want it. */
  readonly target: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface HostFigures {
  /** Fraction of CPU time idle, 0..1. */
  readonly idleFraction: number;
  readonly memTotalBytes: number;
  readonly memAvailableBytes: number;
  readonly rootAvailBytes: number;
}

/** node_exporter-shaped metrics; the idle counter grows with real time so rate() sees idleFraction. */
export function hostMetricsText(figures: HostFigures, startedAtMs: number, nowMs: number): string {
  const elapsed = (nowMs - startedAtMs) / 1000;
  const lines: string[] = ['# TYPE node_cpu_seconds_total counter'];
  for (const cpu of ['0', '1']) {
    lines.push(
      `node_cpu_seconds_total{cpu="${cpu}",mode="idle"} ${(1000 + elapsed * figures.idleFraction).toFixed(3)}`,
    );
    lines.push(
      `node_cpu_seconds_total{cpu="${cpu}",mode="user"} ${(1000 + elapsed * (1 - figures.idleFraction)).toFixed(3)}`,
    );
  }
  lines.push(
    '# TYPE node_memory_MemTotal_bytes gauge',
    `node_memory_MemTotal_bytes ${figures.memTotalBytes}`,
  );
  lines.push(
    '# TYPE node_memory_MemAvailable_bytes gauge',
    `node_memory_MemAvailable_bytes ${figures.memAvailableBytes}`,
  );
  lines.push(
    '# TYPE node_filesystem_avail_bytes gauge',
    `node_filesystem_avail_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"} ${figures.rootAvailBytes}`,
    `node_filesystem_avail_bytes{device="tmpfs",fstype="tmpfs",mountpoint="/run"} 1000000`,
  );
  return `${lines.join('\n')}\n`;
}

export async function startFixedHostExporter(figures: HostFigures): Promise<ScrapeTarget> {
  const startedAtMs = Date.now();
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
      .end(hostMetricsText(figures, startedAtMs, Date.now()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    target: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The real node_exporter with only the collectors the preset reads. Undefined when not installed. */
export async function startNodeExporter(): Promise<ScrapeTarget | undefined> {
  if (!existsSync(NODE_EXPORTER_BINARY)) return undefined;
  const port = await freePort();
  const child = spawn(
    NODE_EXPORTER_BINARY,
    [
      `--web.listen-address=127.0.0.1:${port}`,
      '--collector.disable-defaults',
      '--collector.cpu',
      '--collector.meminfo',
      '--collector.filesystem',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start node_exporter');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1000) });
      await response.text();
      if (response.ok) return { target: `127.0.0.1:${port}`, stop };
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`node_exporter did not start on port ${port}: ${stderr}`);
}
