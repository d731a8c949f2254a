/** The forge-manager command line (loaded by main.ts once node:http is imported lean). */
import { readFailSafeSettings } from '../config/lenient.js';
import { failSafeRevoke, failSafeTargetsFromSettings } from '../manager/fail-safe.js';
import { createLogger } from '../observability/logger.js';
import { runCli } from './commands.js';

const exitCode = await runCli(
  {
    argv: process.argv.slice(2),
    env: process.env,
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
  },
  {
    // Loaded on use: a `run` whose config is broken reaches its fail-safe without first loading
    // the Kubernetes client and the sidecar (seconds on a loaded node, while the lease runs out).
    builtins: async () => (await import('./builtins.js')).builtinPlugins(),
    runManager: async (config, options) => (await import('../manager/run.js')).runManager(config, options),
    failSafe: async (input) => {
      const logger = createLogger({ level: 'info', name: 'forge-manager-fail-safe' });
      const settings = await readFailSafeSettings(input);
      for (const note of settings.notes) logger.warn(`fail-safe: ${note}`);
      await failSafeRevoke(failSafeTargetsFromSettings(settings), { logger });
    },
  },
).catch((error: unknown) => {
  process.stderr.write(
    `forge-manager: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
});
// exitCode (not exit()) lets stdout drain; open handles are closed by each command.
process.exitCode = exitCode;
