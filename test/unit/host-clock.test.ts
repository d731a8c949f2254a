// The simulators' event times and the tests' action times must come from one clock that every process
// on the host shares (test/cardano-node-sim/events.ts): a child's reading falls between two of ours.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { hostClockMs } from '../cardano-node-sim/events.ts';

const events = fileURLToPath(new URL('../cardano-node-sim/events.ts', import.meta.url));

function childReading(): Promise<{ before: number; child: number; after: number }> {
  const script = `import { hostClockMs } from ${JSON.stringify(events)}; process.stdout.write(String(hostClockMs()));`;
  return new Promise((resolve, reject) => {
    const before = hostClockMs();
    execFile(process.execPath, ['--input-type=module', '-e', script], (error, stdout) => {
      const after = hostClockMs();
      if (error) reject(error);
      else resolve({ before, child: Number(stdout), after });
    });
  });
}

describe('hostClockMs', () => {
  it('is one clock for every process on the host: a child reads a time between two of the parent', async () => {
    for (let i = 0; i < 3; i++) {
      const { before, child, after } = await childReading();
      expect(child).toBeGreaterThan(before);
      expect(child).toBeLessThan(after);
    }
  });

  it('has sub-millisecond resolution and never goes back', () => {
    const readings = Array.from({ length: 1000 }, () => hostClockMs());
    for (let i = 1; i < readings.length; i++) expect(readings[i]!).toBeGreaterThanOrEqual(readings[i - 1]!);
    expect(readings.some((r) => !Number.isInteger(r))).toBe(true);
  });
});
