// The chaos run's only source of randomness: one seeded xoroshiro128+ generator (pure-rand), so a seed
// names one fault schedule. Timing of the real processes still varies between runs of the same seed.
// Erasable TypeScript only (run by Node directly through `npm run chaos`).
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

export class SeededRandom {
  readonly seed: number;
  private readonly generator: RandomGenerator;

  constructor(seed: number) {
    this.seed = seed;
    this.generator = xoroshiro128plus(seed);
  }

  /** Integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.generator, from, to);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return uniformFloat64(this.generator) < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** Picks by weight; items with weight 0 are never picked. */
  weighted<T>(items: ReadonlyArray<{ item: T; weight: number }>): T {
    const total = items.reduce((sum, entry) => sum + entry.weight, 0);
    if (total <= 0) throw new Error('weighted pick with no positive weight');
    let point = uniformFloat64(this.generator) * total;
    for (const entry of items) {
      point -= entry.weight;
      if (point < 0) return entry.item;
    }
    return (items.at(-1) as { item: T }).item;
  }
}
