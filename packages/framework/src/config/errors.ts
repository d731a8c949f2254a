/** One problem with the configuration, located by its dotted path (and the env var, if it came from one). */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
  /** The environment variable the offending value came from. */
  readonly env?: string;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '(root)' : issue.path;
  return issue.env ? `${where} (from env ${issue.env}): ${issue.message}` : `${where}: ${issue.message}`;
}

/** Thrown by loadConfig with every problem found, not just the first. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  readonly reason: 'ConfigFileError' | 'ConfigInvalid';
  /** The config file the problems are in (named or discovered), when one was read. */
  readonly file: string | undefined;
  constructor(reason: 'ConfigFileError' | 'ConfigInvalid', issues: readonly ConfigIssue[], file?: string) {
    const head = file ? `invalid configuration (${file})` : 'invalid configuration';
    super(`${head}:\n${issues.map((i) => `  - ${formatConfigIssue(i)}`).join('\n')}`);
    this.name = 'ConfigError';
    this.reason = reason;
    this.issues = issues;
    this.file = file;
  }
}
