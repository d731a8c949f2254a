import type { ControlPlane } from '../../test/controlplane/index.ts';
import type { Figure } from '../figures.ts';
import type { Timings } from '../pods.ts';

export interface BenchContext {
  /** Started lazily, once, for the scenarios that need it. */
  controlPlane(): Promise<ControlPlane>;
  /** A fresh directory for one run. */
  runDir(name: string): Promise<string>;
  readonly runs: number;
  readonly timings: Timings;
  log(line: string): void;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** One paragraph for BENCHMARKS.md: what is measured and how. */
  readonly method: string;
  /** Namespaces the apiserver must audit (fixed before it starts). */
  readonly auditNamespaces?: readonly string[];
  run(ctx: BenchContext): Promise<Figure[]>;
}
