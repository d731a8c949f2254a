/**
 * Watches the source operational certificate (and KES key): exports when the KES key expires and
 * the certificate's counter, warns when expiry is near, and reports a KES key / certificate pair
 * that does not belong together. Reads the files every interval on the injected Clock, so a
 * rotated certificate is picked up without a restart. Never logs or exports key material.
 */
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '../contracts/index.js';
import type { SlotReference } from '../node/slot-clock.js';
import { kesExpiry, type KesExpiry, type KesGenesis } from './expiry.js';
import { checkCredentialPair, parseOperationalCertificate, type PairCheck } from './opcert.js';

export interface KesMonitorDeps {
  readonly clock: Clock;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Reads a file as UTF-8 text (fs.readFile in production). */
  readonly readText: (path: string) => Promise<string>;
}

export interface KesMonitorOptions {
  readonly opCertPath: string;
  /** When set, the KES signing key is checked against the certificate. */
  readonly kesKeyPath?: string | undefined;
  readonly network: string;
  /** null: unknown network without configured values; only the counter and period are exported. */
  readonly genesis: KesGenesis | null;
  readonly slotReference: SlotReference | null;
  readonly warnBeforeSeconds: number;
  readonly intervalMs: number;
}

export type KesReport =
  | {
      readonly ok: true;
      readonly counter: number;
      readonly kesPeriodStart: number;
      /** null when the network's genesis values or slot reference are unknown. */
      readonly expiry: KesExpiry | null;
      /** null when no KES key path is configured. */
      readonly pair: PairCheck | null;
      /** A one-line summary for status views; starts with "WARNING:" when action is needed. */
      readonly message: string;
    }
  | { readonly ok: false; readonly message: string };

export interface KesMonitor {
  /** Reads and evaluates the files once; also updates the metrics. */
  check(): Promise<KesReport>;
  /** The last report (null before the first check). */
  status(): KesReport | null;
  /** Checks now and then every interval until the signal aborts. */
  run(signal: AbortSignal): Promise<void>;
}

export const KES_METRIC_NAMES = {
  secondsUntilExpiry: 'cardano_forge_kes_seconds_until_expiry',
  periodStart: 'cardano_forge_kes_period_start',
  opcertCounter: 'cardano_forge_opcert_counter',
  currentPeriod: 'cardano_forge_kes_current_period',
  pairValid: 'cardano_forge_kes_opcert_pair_valid',
  checkSuccess: 'cardano_forge_kes_check_success',
} as const;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createKesMonitor(deps: KesMonitorDeps, options: KesMonitorOptions): KesMonitor {
  const { clock, registry, logger } = deps;
  const labelNames = ['network'] as const;
  const labels = { network: options.network };
  // Labelled gauges, so that a failed read removes the series instead of exporting a false 0.
  const secondsUntilExpiry = new Gauge({
    name: KES_METRIC_NAMES.secondsUntilExpiry,
    help: 'Seconds until the KES key of the source operational certificate expires (negative once expired)',
    labelNames,
    registers: [registry],
  });
  const periodStart = new Gauge({
    name: KES_METRIC_NAMES.periodStart,
    help: 'KES period the source operational certificate starts at',
    labelNames,
    registers: [registry],
  });
  const opcertCounter = new Gauge({
    name: KES_METRIC_NAMES.opcertCounter,
    help: 'Issue counter of the source operational certificate',
    labelNames,
    registers: [registry],
  });
  const currentPeriod = new Gauge({
    name: KES_METRIC_NAMES.currentPeriod,
    help: 'KES period of the current wall-clock slot',
    labelNames,
    registers: [registry],
  });
  const pairValid = new Gauge({
    name: KES_METRIC_NAMES.pairValid,
    help: '1 if the KES signing key belongs to the operational certificate and the certificate is signed by its cold key, else 0',
    labelNames,
    registers: [registry],
  });
  const checkSuccess = new Gauge({
    name: KES_METRIC_NAMES.checkSuccess,
    help: '1 if the last read of the operational certificate (and KES key) succeeded, else 0',
    registers: [registry],
  });

  let last: KesReport | null = null;
  let lastLogged = '';

  const logOnChange = (level: 'info' | 'warn' | 'error', message: string, fields: object) => {
    // Log each distinct situation once, and near-expiry warnings again when the day count changes.
    if (message === lastLogged) return;
    lastLogged = message;
    logger[level](fields, message);
  };

  const evaluate = async (): Promise<KesReport> => {
    const certText = await deps.readText(options.opCertPath);
    const cert = parseOperationalCertificate(certText, `operational certificate ${options.opCertPath}`);
    const pair =
      options.kesKeyPath === undefined
        ? null
        : checkCredentialPair(await deps.readText(options.kesKeyPath), cert);
    const expiry =
      options.genesis && options.slotReference
        ? kesExpiry({
            kesPeriodStart: cert.kesPeriodStart,
            genesis: options.genesis,
            slotReference: options.slotReference,
            nowMs: clock.wallNow().getTime(),
            warnBeforeSeconds: options.warnBeforeSeconds,
          })
        : null;
    const problems: string[] = [];
    if (pair && !pair.ok) problems.push(pair.message);
    if (expiry && expiry.validity !== 'Valid') problems.push(expiry.message);
    const message =
      problems.length > 0
        ? `WARNING: ${problems.join('; ')}`
        : (expiry?.message ??
          `KES expiry unknown for network "${options.network}" (set kes.slotsPerKESPeriod, kes.maxKESEvolutions and node.slotReference)`);
    return { ok: true, counter: cert.counter, kesPeriodStart: cert.kesPeriodStart, expiry, pair, message };
  };

  const check = async (): Promise<KesReport> => {
    let report: KesReport;
    try {
      report = await evaluate();
    } catch (error) {
      report = { ok: false, message: `KES check failed: ${describe(error)}` };
    }
    last = report;
    for (const gauge of [secondsUntilExpiry, periodStart, opcertCounter, currentPeriod, pairValid])
      gauge.reset();
    checkSuccess.set(report.ok ? 1 : 0);
    if (!report.ok) {
      logOnChange('error', report.message, { opCert: options.opCertPath });
      return report;
    }
    periodStart.set(labels, report.kesPeriodStart);
    opcertCounter.set(labels, report.counter);
    if (report.pair) pairValid.set(labels, report.pair.ok ? 1 : 0);
    if (report.expiry) {
      secondsUntilExpiry.set(labels, Math.round(report.expiry.secondsUntilExpiry));
      currentPeriod.set(labels, report.expiry.currentKesPeriod);
    }
    const fields = {
      opCert: options.opCertPath,
      counter: report.counter,
      kesPeriodStart: report.kesPeriodStart,
      ...(report.expiry
        ? { expiresAt: report.expiry.expiresAt.toISOString(), validity: report.expiry.validity }
        : {}),
    };
    const needsAction = report.message.startsWith('WARNING:');
    logOnChange(
      needsAction ? 'warn' : 'info',
      needsAction ? report.message : `KES: ${report.message}`,
      fields,
    );
    return report;
  };

  return {
    check,
    status: () => last,
    async run(signal) {
      while (!signal.aborted) {
        await check();
        try {
          await clock.sleep(options.intervalMs, signal);
        } catch {
          return;
        }
      }
    },
  };
}
