/** What can go wrong while loading a plugin, reported with its config path and plugin name. */

export type PluginProblemReason =
  | 'UnknownPlugin'
  | 'ImportFailed'
  | 'NotAPlugin'
  | 'UnsupportedApiVersion'
  | 'WrongKind'
  | 'IncompatibleFramework'
  | 'InvalidOptions'
  | 'DuplicateId'
  | 'CreateFailed';

export interface PluginProblem {
  readonly configPath: string;
  /** The package name, built-in name or plugin object name, as the user wrote it. */
  readonly plugin: string;
  readonly reason: PluginProblemReason;
  readonly message: string;
}

export type PluginResult<T> = { ok: true; value: T } | { ok: false; problems: PluginProblem[] };

export function formatPluginProblem(problem: PluginProblem): string {
  return `${problem.configPath} (${JSON.stringify(problem.plugin)}): ${problem.message}`;
}

export class PluginLoadError extends Error {
  readonly problems: readonly PluginProblem[];
  constructor(problems: readonly PluginProblem[]) {
    super(`plugin errors:\n${problems.map((p) => `  - ${formatPluginProblem(p)}`).join('\n')}`);
    this.name = 'PluginLoadError';
    this.problems = problems;
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
