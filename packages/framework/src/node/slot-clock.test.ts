import { describe, expect, it } from 'vitest';
import { KNOWN_SLOT_REFERENCES, slotReferenceFor, wallClockSlot } from './slot-clock.js';

describe('wall-clock slot', () => {
  it('is the reference slot at the reference time and advances one slot per second', () => {
    const ref = KNOWN_SLOT_REFERENCES.mainnet!;
    expect(wallClockSlot(ref, ref.unixSeconds * 1000)).toBe(4_492_800);
    expect(wallClockSlot(ref, ref.unixSeconds * 1000 + 999)).toBe(4_492_800);
    expect(wallClockSlot(ref, (ref.unixSeconds + 86_400) * 1000)).toBe(4_492_800 + 86_400);
    // 2024-01-01T00:00:00Z on mainnet.
    expect(wallClockSlot(ref, Date.UTC(2024, 0, 1))).toBe(112_500_909);
  });

  it('knows the public networks, prefers an explicit reference, and has none for custom networks', () => {
    expect(slotReferenceFor('Preprod')).toEqual({ slot: 86_400, unixSeconds: 1_655_769_600 });
    expect(slotReferenceFor('preview')?.slot).toBe(0);
    expect(slotReferenceFor('mainnet', { slot: 5, unixSeconds: 10 })).toEqual({ slot: 5, unixSeconds: 10 });
    expect(slotReferenceFor('sanchonet')).toBeNull();
  });
});
