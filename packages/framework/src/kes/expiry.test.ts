import { describe, expect, it } from 'vitest';
import { KNOWN_SLOT_REFERENCES } from '../node/slot-clock.js';
import { kesExpiry, kesGenesisFor } from './expiry.js';

const DAY = 86_400;
const mainnet = { genesis: kesGenesisFor('mainnet')!, slotReference: KNOWN_SLOT_REFERENCES.mainnet! };

describe('kesExpiry', () => {
  it('puts mainnet expiry at (start + 62) × 129600 slots', () => {
    // Start period 1000 → expiry slot 137,635,200 = Shelley start + 133,142,400 s.
    const expiry = kesExpiry({
      ...mainnet,
      kesPeriodStart: 1000,
      nowMs: Date.parse('2024-09-01T00:00:00Z'),
      warnBeforeSeconds: 7 * DAY,
    });
    expect(expiry.expirySlot).toBe(137_635_200);
    expect(expiry.expiresAt.toISOString()).toBe('2024-10-17T21:44:51.000Z');
    expect(expiry.secondsUntilExpiry).toBe(
      Date.parse('2024-10-17T21:44:51Z') / 1000 - Date.parse('2024-09-01T00:00:00Z') / 1000,
    );
    expect(expiry.validity).toBe('Valid');
    expect(expiry.currentKesPeriod).toBe(Math.floor(expiry.currentSlot / 129_600));
  });

  it('warns within the threshold, then reports expiry', () => {
    const base = { ...mainnet, kesPeriodStart: 1000, warnBeforeSeconds: 7 * DAY };
    const expiresMs = Date.parse('2024-10-17T21:44:51Z');
    expect(kesExpiry({ ...base, nowMs: expiresMs - 7 * DAY * 1000 - 1000 }).validity).toBe('Valid');
    const near = kesExpiry({ ...base, nowMs: expiresMs - 6 * DAY * 1000 });
    expect(near.validity).toBe('NearExpiry');
    expect(near.message).toMatch(/expires in 6\.0 days .*rotate the KES key/);
    const expired = kesExpiry({ ...base, nowMs: expiresMs });
    expect(expired.validity).toBe('Expired');
    expect(expired.secondsUntilExpiry).toBe(0);
  });

  it('reports a certificate whose start period is still in the future', () => {
    const now = Date.parse('2024-09-01T00:00:00Z');
    const current = kesExpiry({
      ...mainnet,
      kesPeriodStart: 0,
      nowMs: now,
      warnBeforeSeconds: 0,
    }).currentKesPeriod;
    const early = kesExpiry({ ...mainnet, kesPeriodStart: current + 1, nowMs: now, warnBeforeSeconds: 0 });
    expect(early.validity).toBe('NotYetValid');
    expect(early.message).toContain(`--kes-period ${current}`);
  });

  it('uses preview genesis (Shelley from slot 0) and explicit values for other networks', () => {
    const preview = kesExpiry({
      genesis: kesGenesisFor('preview')!,
      slotReference: KNOWN_SLOT_REFERENCES.preview!,
      kesPeriodStart: 10,
      nowMs: Date.parse('2022-11-01T00:00:00Z'),
      warnBeforeSeconds: 0,
    });
    expect(preview.expiresAt.getTime() / 1000).toBe(1_666_656_000 + 72 * 129_600);
    expect(kesGenesisFor('sanchonet')).toBeNull();
    expect(kesGenesisFor('sanchonet', { slotsPerKESPeriod: 3600, maxKESEvolutions: 120 })).toEqual({
      slotsPerKESPeriod: 3600,
      maxKESEvolutions: 120,
    });
    expect(kesGenesisFor('mainnet', { maxKESEvolutions: 10 })).toEqual({
      slotsPerKESPeriod: 129_600,
      maxKESEvolutions: 10,
    });
  });
});
