// `npm run chaos -- --minutes N --seed S [--faults a,b] ...`: random faults on real processes (a real
// kube-apiserver, three forge-manager sidecars, three simulated cardano-nodes) with the invariant checked
// continuously. Exit 0 with a summary, 1 with the seed and timelines on a violation, 2 on bad usage.
// Erasable TypeScript only (run by Node 24 directly).
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { runChaos } from './engine.ts';
import { FAULT_KINDS, parseFaultList } from './faults.ts';
import type { FaultKind } from './faults.ts';
import type { Timings } from './world.ts';

export interface CliOptions {
  minutes: number;
  seed: number;
  faults: FaultKind[];
  timings: Timings;
  livenessSlackS: number;
  concurrency: number;
  minFaults: number;
  keep: boolean;
}

const USAGE = `usage: npm run chaos -- [--minutes N] [--seed S] [--faults kind,kind|default|all]
       [--lease-duration 6] [--renew-deadline 3] [--retry-period 1] [--liveness-slack 3]
       [--concurrency 2] [--min-faults N] [--keep] [--list-faults]
  --min-faults N  go on past --minutes until N faults have run (for at most --minutes more)`;

function positiveNumber(
  flag: string,
  raw: string | undefined,
  fallback: number,
  integer: boolean,
): number | string {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value)))
    return `--${flag} must be a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(raw)}`;
  return value;
}

export function parseCli(
  argv: readonly string[],
): { ok: true; options: CliOptions } | { ok: false; message: string; list?: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        minutes: { type: 'string' },
        seed: { type: 'string' },
        faults: { type: 'string' },
        'lease-duration': { type: 'string' },
        'renew-deadline': { type: 'string' },
        'retry-period': { type: 'string' },
        'liveness-slack': { type: 'string' },
        concurrency: { type: 'string' },
        'min-faults': { type: 'string' },
        keep: { type: 'boolean', default: false },
        'list-faults': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    return { ok: false, message: `${(error as Error).message}\n${USAGE}` };
  }
  if (values.help) return { ok: false, message: USAGE };
  if (values['list-faults']) return { ok: false, message: '', list: true };
  const numbers = {
    minutes: positiveNumber('minutes', values.minutes, 5, false),
    leaseDuration: positiveNumber('lease-duration', values['lease-duration'], 6, true),
    renewDeadline: positiveNumber('renew-deadline', values['renew-deadline'], 3, true),
    retryPeriod: positiveNumber('retry-period', values['retry-period'], 1, true),
    livenessSlackS: positiveNumber('liveness-slack', values['liveness-slack'], 3, false),
    concurrency: positiveNumber('concurrency', values.concurrency, 2, true),
    minFaults:
      values['min-faults'] === undefined ? 0 : positiveNumber('min-faults', values['min-faults'], 0, true),
  };
  for (const v of Object.values(numbers)) if (typeof v === 'string') return { ok: false, message: v };
  const n = numbers as Record<keyof typeof numbers, number>;
  if (!(n.leaseDuration > n.renewDeadline && n.renewDeadline > n.retryPeriod))
    return {
      ok: false,
      message: `need --lease-duration > --renew-deadline > --retry-period, got ${n.leaseDuration} / ${n.renewDeadline} / ${n.retryPeriod}`,
    };
  let seed: number;
  if (values.seed === undefined) seed = randomInt(0, 2 ** 31);
  else {
    seed = Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0)
      return {
        ok: false,
        message: `--seed must be a non-negative integer, got ${JSON.stringify(values.seed)}`,
      };
  }
  const faults = parseFaultList(values.faults);
  if (!faults.ok) return { ok: false, message: faults.message };
  return {
    ok: true,
    options: {
      minutes: n.minutes,
      seed,
      faults: faults.kinds,
      timings: { leaseDuration: n.leaseDuration, renewDeadline: n.renewDeadline, retryPeriod: n.retryPeriod },
      livenessSlackS: n.livenessSlackS,
      concurrency: n.concurrency,
      minFaults: n.minFaults,
      keep: values.keep,
    },
  };
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseCli(argv);
  if (!parsed.ok) {
    if (parsed.list) {
      for (const f of FAULT_KINDS)
        console.log(
          `${f.name.padEnd(25)} ${f.optIn === undefined ? 'default' : 'opt-in '} ${f.describe}${f.optIn ? `\n${' '.repeat(34)}(opt-in: ${f.optIn})` : ''}`,
        );
      return 0;
    }
    console.error(parsed.message);
    return 2;
  }
  const o = parsed.options;
  let onSignal: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => {
    onSignal = () => {
      console.error('chaos: interrupted; undoing faults and stopping every process');
      resolve();
    };
  });
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const result = await runChaos({
    seed: o.seed,
    durationMs: o.minutes * 60_000,
    faults: o.faults,
    timings: o.timings,
    livenessSlackS: o.livenessSlackS,
    concurrency: o.concurrency,
    minFaults: o.minFaults,
    keep: o.keep,
    log: (line) => console.log(line),
    interrupted,
  });
  console.log(`\n${result.report}`);
  if (result.violation !== null) return 1;
  return result.interrupted ? 130 : 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
