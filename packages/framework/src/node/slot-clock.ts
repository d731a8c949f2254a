/**
 * The chain's wall-clock slot, for the tip gate: since the Shelley hard fork every slot lasts one
 * second, so the slot the network is at now follows from one known (slot, time) pair.
 */
export interface SlotReference {
  readonly slot: number;
  readonly unixSeconds: number;
}

/** First Shelley slot and its start time for the public networks (Byron slots were 20 s). */
export const KNOWN_SLOT_REFERENCES: Readonly<Record<string, SlotReference>> = Object.freeze({
  mainnet: { slot: 4_492_800, unixSeconds: 1_596_059_091 }, // 2020-07-29T21:44:51Z, epoch 208
  preprod: { slot: 86_400, unixSeconds: 1_655_769_600 }, // 2022-06-21T00:00:00Z, epoch 4
  preview: { slot: 0, unixSeconds: 1_666_656_000 }, // 2022-10-25T00:00:00Z, Shelley from genesis
});

/** The explicit reference wins; otherwise the known one for the network; null when unknown. */
export function slotReferenceFor(network: string, explicit?: SlotReference): SlotReference | null {
  return explicit ?? KNOWN_SLOT_REFERENCES[network.trim().toLowerCase()] ?? null;
}

export function wallClockSlot(reference: SlotReference, nowMs: number): number {
  return reference.slot + Math.floor(nowMs / 1000 - reference.unixSeconds);
}
