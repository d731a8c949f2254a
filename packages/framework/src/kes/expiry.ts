/**
 * When an operational certificate's KES key stops being usable. Pure: the caller passes the time.
 *
 * A certificate starting at KES period c is valid for periods c … c + maxKESEvolutions − 1; the
 * KES period of a slot is ⌊slot / slotsPerKESPeriod⌋ (absolute slot numbers, Byron included), so
 * the key expires at slot (c + maxKESEvolutions) × slotsPerKESPeriod. That slot is in the Shelley
 * era (1 s slots), so its time follows from the network's Shelley slot reference (node/slot-clock).
 */
import type { SlotReference } from '../node/slot-clock.js';
import { wallClockSlot } from '../node/slot-clock.js';

export interface KesGenesis {
  readonly slotsPerKESPeriod: number;
  readonly maxKESEvolutions: number;
}

/** shelley-genesis.json of the public networks: the same values on all three. */
export const KNOWN_KES_GENESIS: Readonly<Record<string, KesGenesis>> = Object.freeze({
  mainnet: { slotsPerKESPeriod: 129_600, maxKESEvolutions: 62 },
  preprod: { slotsPerKESPeriod: 129_600, maxKESEvolutions: 62 },
  preview: { slotsPerKESPeriod: 129_600, maxKESEvolutions: 62 },
});

/** Explicit values win field by field; otherwise the known network's; null when neither. */
export function kesGenesisFor(network: string, explicit?: Partial<KesGenesis>): KesGenesis | null {
  const known = KNOWN_KES_GENESIS[network.trim().toLowerCase()];
  const slotsPerKESPeriod = explicit?.slotsPerKESPeriod ?? known?.slotsPerKESPeriod;
  const maxKESEvolutions = explicit?.maxKESEvolutions ?? known?.maxKESEvolutions;
  if (slotsPerKESPeriod === undefined || maxKESEvolutions === undefined) return null;
  return { slotsPerKESPeriod, maxKESEvolutions };
}

export type KesValidity = 'Valid' | 'NearExpiry' | 'Expired' | 'NotYetValid';

export interface KesExpiry {
  readonly currentSlot: number;
  readonly currentKesPeriod: number;
  readonly kesPeriodStart: number;
  /** First KES period the key can no longer sign in. */
  readonly expiryKesPeriod: number;
  readonly expirySlot: number;
  readonly expiresAt: Date;
  /** Negative once expired. */
  readonly secondsUntilExpiry: number;
  readonly validity: KesValidity;
  readonly message: string;
}

export function kesExpiry(input: {
  readonly kesPeriodStart: number;
  readonly genesis: KesGenesis;
  readonly slotReference: SlotReference;
  readonly nowMs: number;
  /** NearExpiry from this many seconds before expiry. */
  readonly warnBeforeSeconds: number;
}): KesExpiry {
  const { kesPeriodStart, genesis, slotReference, nowMs, warnBeforeSeconds } = input;
  const currentSlot = wallClockSlot(slotReference, nowMs);
  const currentKesPeriod = Math.floor(currentSlot / genesis.slotsPerKESPeriod);
  const expiryKesPeriod = kesPeriodStart + genesis.maxKESEvolutions;
  const expirySlot = expiryKesPeriod * genesis.slotsPerKESPeriod;
  const expiresAtSeconds = slotReference.unixSeconds + (expirySlot - slotReference.slot);
  const secondsUntilExpiry = expiresAtSeconds - nowMs / 1000;
  const expiresAt = new Date(expiresAtSeconds * 1000);
  const days = (secondsUntilExpiry / 86_400).toFixed(1);
  let validity: KesValidity;
  let message: string;
  if (currentKesPeriod < kesPeriodStart) {
    validity = 'NotYetValid';
    message = `the operational certificate starts at KES period ${kesPeriodStart} but the chain is at period ${currentKesPeriod}; the node cannot forge with it (issue it with --kes-period ${currentKesPeriod})`;
  } else if (currentKesPeriod >= expiryKesPeriod) {
    validity = 'Expired';
    message = `the KES key expired at ${expiresAt.toISOString()} (KES period ${expiryKesPeriod}); rotate the KES key and issue a new operational certificate`;
  } else if (secondsUntilExpiry <= warnBeforeSeconds) {
    validity = 'NearExpiry';
    message = `the KES key expires in ${days} days (${expiresAt.toISOString()}, KES period ${expiryKesPeriod}); rotate the KES key and issue a new operational certificate`;
  } else {
    validity = 'Valid';
    message = `the KES key expires in ${days} days (${expiresAt.toISOString()})`;
  }
  return {
    currentSlot,
    currentKesPeriod,
    kesPeriodStart,
    expiryKesPeriod,
    expirySlot,
    expiresAt,
    secondsUntilExpiry,
    validity,
    message,
  };
}
