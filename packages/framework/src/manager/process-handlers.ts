/**
 * The process-wide listeners one manager run installs — SIGTERM/SIGINT ask it to stop, an
 * uncaught exception or unhandled rejection runs the fail-safe — and their removal. Whatever way
 * the run ends (normal stop, fail-safe exit, an error while starting), `dispose()` takes every one
 * of them off again, so an embedding program or a test that runs the manager twice is left with
 * the listeners it had.
 */

/** The part of `process` this touches (the real one by default). */
export interface ProcessEvents {
  on(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  once(event: 'uncaughtException' | 'unhandledRejection', listener: (error: unknown) => void): unknown;
  off(event: 'SIGTERM' | 'SIGINT', listener: (signal: NodeJS.Signals) => void): unknown;
  off(event: 'uncaughtException' | 'unhandledRejection', listener: (error: unknown) => void): unknown;
}

export interface ProcessHandlerOptions {
  /** An unexpected error anywhere in the process: stop, withdraw credentials, exit. */
  readonly onFatal: (error: unknown) => void;
  /** Listen for SIGTERM/SIGINT (false when the caller decides when to stop). */
  readonly stopOnSignals: boolean;
  readonly events?: ProcessEvents;
}

export interface ProcessHandlers {
  /** Resolves with the first SIGTERM/SIGINT (never, without stopOnSignals). */
  readonly stopRequested: Promise<NodeJS.Signals>;
  /** Removes every listener installed here; safe to call more than once. */
  dispose(): void;
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const FATAL_EVENTS = ['uncaughtException', 'unhandledRejection'] as const;

export function installProcessHandlers(options: ProcessHandlerOptions): ProcessHandlers {
  const events: ProcessEvents = options.events ?? process;
  const { onFatal } = options;
  let onStop: ((signal: NodeJS.Signals) => void) | null = null;
  const removeStopListeners = (): void => {
    if (onStop === null) return;
    for (const signal of STOP_SIGNALS) events.off(signal, onStop);
    onStop = null;
  };
  const stopRequested = new Promise<NodeJS.Signals>((resolve) => {
    if (!options.stopOnSignals) return;
    const listener = (signal: NodeJS.Signals): void => {
      removeStopListeners();
      resolve(signal);
    };
    onStop = listener;
    for (const signal of STOP_SIGNALS) events.on(signal, listener);
  });
  for (const event of FATAL_EVENTS) events.once(event, onFatal);
  let disposed = false;
  return {
    stopRequested,
    dispose() {
      if (disposed) return;
      disposed = true;
      removeStopListeners();
      for (const event of FATAL_EVENTS) events.off(event, onFatal);
    },
  };
}
