// Runs promtool (Debian's prometheus package) and reports its exit code and output; never throws on a
// failed check, so callers can assert on it. Erasable TypeScript only, like index.ts.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DEFAULT_PROMTOOL_BINARY } from './index.ts';

export interface PromtoolRun {
  /** 0 when promtool reported success. */
  code: number;
  output: string;
}

export function promtoolBinary(): string {
  const binary = process.env.PROMTOOL ?? DEFAULT_PROMTOOL_BINARY;
  if (!existsSync(binary))
    throw new Error(`${binary} not found: install Debian's prometheus package (apt-get install prometheus)`);
  return binary;
}

export function runPromtool(args: readonly string[], cwd?: string): Promise<PromtoolRun> {
  const binary = promtoolBinary();
  return new Promise((resolve, reject) => {
    execFile(binary, [...args], { timeout: 60_000, cwd }, (error, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      if (error === null) resolve({ code: 0, output });
      else if (typeof error.code === 'number') resolve({ code: error.code, output });
      else reject(new Error(`promtool ${args.join(' ')} did not run: ${error.message}`));
    });
  });
}
