import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MIN_CALL_TIMEOUT_MS, revocationBudget, revocationChainMs } from './timing.js';

describe('revocation budget', () => {
  it('defaults (LD 15 s, RD 10 s, SIGHUP bound 2 s) fit, with the whole chain inside the margin', () => {
    const t = revocationBudget({
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      sighupLatencyBoundMs: 2000,
    });
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    expect(t.budget.callTimeoutMs).toBeGreaterThanOrEqual(MIN_CALL_TIMEOUT_MS);
    expect(t.budget.chainMs).toBeLessThanOrEqual(t.budget.marginMs - t.budget.driftAllowanceMs);
  });

  it('an impossible combination names the fields to change', () => {
    const t = revocationBudget({
      leaseDurationSeconds: 4,
      renewDeadlineSeconds: 3,
      sighupLatencyBoundMs: 2000,
    });
    expect(t.ok).toBe(false);
    if (t.ok) return;
    expect(t.fields).toEqual([
      'election.leaseDurationSeconds',
      'election.renewDeadlineSeconds',
      'node.sighupLatencyBoundMs',
    ]);
    expect(t.message).toMatch(/1000 ms is too short/);
  });

  it('whenever it accepts, the worst-case chain plus drift fits in LD − RD', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 600 }),
        fc.integer({ min: 1, max: 599 }),
        fc.integer({ min: 1, max: 20_000 }),
        (ld, rd, bound) => {
          fc.pre(ld > rd);
          const t = revocationBudget({
            leaseDurationSeconds: ld,
            renewDeadlineSeconds: rd,
            sighupLatencyBoundMs: bound,
          });
          if (!t.ok) return;
          const b = t.budget;
          expect(
            revocationChainMs(b.callTimeoutMs, bound, b.terminateGraceMs) + b.driftAllowanceMs,
          ).toBeLessThanOrEqual((ld - rd) * 1000);
        },
      ),
    );
  });
});
