/**
 * The KES monitor as a lifecycle component of `forge-manager run`: built from the config, it
 * watches the SOURCE credentials (what will be provisioned), and serves its report on /kes.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ResolvedConfig } from '../config/schema.js';
import type { Clock } from '../contracts/index.js';
import type { LifecycleComponent } from '../di/lifecycle.js';
import type { HttpServer } from '../observability/http.js';
import { slotReferenceFor } from '../node/slot-clock.js';
import { kesGenesisFor } from './expiry.js';
import { createKesMonitor, type KesMonitor, type KesReport } from './monitor.js';

export interface KesMonitorComponent extends LifecycleComponent {
  readonly monitor: KesMonitor;
  /** Adds GET /kes (the last report as JSON) to the sidecar's HTTP server. */
  attach(http: HttpServer): void;
}

function reportJson(report: KesReport | null) {
  if (report === null) return { ready: false };
  if (!report.ok) return report;
  return {
    ...report,
    expiry: report.expiry && { ...report.expiry, expiresAt: report.expiry.expiresAt.toISOString() },
  };
}

/** null when the monitor is switched off (kes.enabled: false). */
export function kesMonitorComponent(
  config: ResolvedConfig,
  deps: { clock: Clock; registry: Registry; logger: Logger },
): KesMonitorComponent | null {
  if (!config.kes.enabled) return null;
  const logger = deps.logger.child({ component: 'kes' });
  const genesis = kesGenesisFor(config.pool.network, {
    ...(config.kes.slotsPerKESPeriod !== undefined
      ? { slotsPerKESPeriod: config.kes.slotsPerKESPeriod }
      : {}),
    ...(config.kes.maxKESEvolutions !== undefined ? { maxKESEvolutions: config.kes.maxKESEvolutions } : {}),
  });
  const slotReference = slotReferenceFor(config.pool.network, config.node.slotReference);
  if (genesis === null || slotReference === null)
    logger.warn(
      `KES expiry cannot be computed for network "${config.pool.network}": set kes.slotsPerKESPeriod, kes.maxKESEvolutions (KES_SLOTS_PER_PERIOD, KES_MAX_EVOLUTIONS) and node.slotReference (NODE_SLOT_REFERENCE_SLOT/_UNIX)`,
    );
  const monitor = createKesMonitor(
    { ...deps, logger, readText: (path) => readFile(path, 'utf8') },
    {
      opCertPath: config.credentials.source.opCert,
      kesKeyPath: config.credentials.source.kesKey,
      network: config.pool.network,
      genesis,
      slotReference,
      warnBeforeSeconds: config.kes.warnBeforeSeconds,
      intervalMs: config.kes.checkIntervalSeconds * 1000,
    },
  );
  const abort = new AbortController();
  let running: Promise<void> = Promise.resolve();
  return {
    name: 'kes-monitor',
    monitor,
    start() {
      running = monitor.run(abort.signal);
    },
    async stop() {
      abort.abort(new Error('kes monitor stopped'));
      await running;
    },
    attach(http) {
      http.route('GET', '/kes', () => ({
        status: monitor.status() === null ? 503 : 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(reportJson(monitor.status())),
      }));
    },
  };
}
