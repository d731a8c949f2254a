/**
 * Explicit start/stop. Components start in the order they were added and stop in reverse order,
 * each stop bounded by a timeout so one stuck component cannot keep the others (in particular the
 * credential revocation that must precede the lease release) from running.
 */
import { createSystemClock } from '../core/clock.js';
import { withDeadline } from '../core/deadline.js';

export interface LifecycleComponent {
  readonly name: string;
  start?(signal: AbortSignal): Promise<void> | void;
  stop?(signal: AbortSignal): Promise<void> | void;
  /** Overrides the lifecycle's default stop timeout for this component. */
  readonly stopTimeoutMs?: number;
  /** Overrides the lifecycle's default start timeout for this component. */
  readonly startTimeoutMs?: number;
}

export interface LifecycleStepResult {
  readonly name: string;
  readonly ok: boolean;
  /** 'ok' | 'timeout' | 'error' | 'skipped' */
  readonly reason: 'ok' | 'timeout' | 'error' | 'skipped';
  readonly message: string;
  readonly durationMs: number;
}

export interface LifecycleOptions {
  readonly defaultStartTimeoutMs?: number;
  readonly defaultStopTimeoutMs?: number;
  /** For tests: observe each step as it finishes. */
  readonly onStep?: (phase: 'start' | 'stop', result: LifecycleStepResult) => void;
}

export class LifecycleStartError extends Error {
  readonly results: readonly LifecycleStepResult[];
  constructor(message: string, results: readonly LifecycleStepResult[]) {
    super(message);
    this.name = 'LifecycleStartError';
    this.results = results;
  }
}

type Outcome = { kind: 'ok' } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/** Runs one start/stop step, bounded on the clock also when it ignores its signal. */
async function runBounded(
  fn: (signal: AbortSignal) => Promise<void> | void,
  timeoutMs: number,
): Promise<Outcome> {
  const step = async (signal: AbortSignal): Promise<Outcome> => {
    try {
      await fn(signal);
      return { kind: 'ok' };
    } catch (error) {
      return { kind: 'error', error };
    }
  };
  return withDeadline(createSystemClock(), timeoutMs, step, { onTimeout: () => ({ kind: 'timeout' }) });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class Lifecycle {
  readonly #components: LifecycleComponent[] = [];
  readonly #started: LifecycleComponent[] = [];
  readonly #options: Required<Omit<LifecycleOptions, 'onStep'>> & Pick<LifecycleOptions, 'onStep'>;
  #state: 'idle' | 'starting' | 'started' | 'stopping' | 'stopped' = 'idle';

  constructor(options: LifecycleOptions = {}) {
    this.#options = {
      defaultStartTimeoutMs: options.defaultStartTimeoutMs ?? 60_000,
      defaultStopTimeoutMs: options.defaultStopTimeoutMs ?? 10_000,
      onStep: options.onStep,
    };
  }

  /** Adds a component; it starts after every component added before it. */
  add(component: LifecycleComponent): this {
    if (this.#state !== 'idle') throw new Error(`Lifecycle: cannot add "${component.name}" after start`);
    if (this.#components.some((c) => c.name === component.name)) {
      throw new Error(`Lifecycle: duplicate component name "${component.name}"`);
    }
    this.#components.push(component);
    return this;
  }

  get state(): string {
    return this.#state;
  }

  /**
   * Starts every component in order. If one fails (or times out), the ones already started are
   * stopped in reverse order and a LifecycleStartError is thrown.
   */
  async start(): Promise<LifecycleStepResult[]> {
    if (this.#state !== 'idle') throw new Error(`Lifecycle: start() called in state ${this.#state}`);
    this.#state = 'starting';
    const results: LifecycleStepResult[] = [];
    for (const component of this.#components) {
      const began = performance.now();
      const outcome = component.start
        ? await runBounded(
            (s) => component.start!(s),
            component.startTimeoutMs ?? this.#options.defaultStartTimeoutMs,
          )
        : ({ kind: 'ok' } as const);
      const result = this.#result(component.name, outcome, began);
      results.push(result);
      this.#options.onStep?.('start', result);
      if (outcome.kind === 'ok') {
        this.#started.push(component);
        continue;
      }
      // Roll back: the components that did start are stopped in reverse order.
      const stopResults = await this.stop();
      throw new LifecycleStartError(`component "${component.name}" failed to start: ${result.message}`, [
        ...results,
        ...stopResults,
      ]);
    }
    this.#state = 'started';
    return results;
  }

  /**
   * Stops the started components in reverse order. Never throws: a failing or stuck component is
   * reported and the next one is stopped anyway. Calling stop() twice is a no-op the second time.
   */
  async stop(): Promise<LifecycleStepResult[]> {
    if (this.#state === 'stopping' || this.#state === 'stopped') return [];
    this.#state = 'stopping';
    const results: LifecycleStepResult[] = [];
    while (this.#started.length > 0) {
      const component = this.#started.pop()!;
      const began = performance.now();
      const outcome = component.stop
        ? await runBounded(
            (s) => component.stop!(s),
            component.stopTimeoutMs ?? this.#options.defaultStopTimeoutMs,
          )
        : ({ kind: 'ok' } as const);
      const result = this.#result(component.name, outcome, began);
      results.push(result);
      this.#options.onStep?.('stop', result);
    }
    this.#state = 'stopped';
    return results;
  }

  #result(name: string, outcome: Outcome, began: number): LifecycleStepResult {
    const durationMs = performance.now() - began;
    switch (outcome.kind) {
      case 'ok':
        return { name, ok: true, reason: 'ok', message: 'ok', durationMs };
      case 'timeout':
        return {
          name,
          ok: false,
          reason: 'timeout',
          message: `timed out after ${Math.round(durationMs)} ms`,
          durationMs,
        };
      case 'error':
        return { name, ok: false, reason: 'error', message: describe(outcome.error), durationMs };
    }
  }
}
