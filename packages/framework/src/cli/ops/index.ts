/**
 * The operator commands: status, maintenance, failover. They talk to the API servers named by
 * kubeconfig contexts (one per region: `--context eu,us` or `--context eu --context us`).
 */
import { parseArgs } from 'node:util';
import { clearFailover, failover, parseDuration } from './failover.js';
import { listAll } from './find.js';
import { listLeaders, listLeases, loadKubeConfig, OpsError, resolveTargets, type Target } from './kube.js';
import { maintenance } from './maintenance.js';
import { renderStatus, statusView } from './status.js';

export const OPS_COMMANDS = ['status', 'maintenance', 'failover'] as const;

export const OPS_HELP = `Operator commands (kubeconfig contexts, one per region):
  forge-manager status      [--context a,b] [-n ns] [-o table|json]
  forge-manager maintenance <cluster> on|off [--context a,b] [-n ns]
                            on: spec.forgeState Disabled (previous state kept in an annotation); off: restore it
  forge-manager failover    --to <cluster> [--for 2h] [--context a,b] [-n ns]
                            others of the pool: override forceState Disabled; target: override forcePriority 1
  forge-manager failover    --clear [--context a,b] [-n ns]    remove the overrides failover set

      --context <names>      kubeconfig contexts, comma-separated or repeated (default: the current one)
      --kubeconfig <file>    kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
  -n, --namespace <ns>       namespace of the CardanoForgeClusters (default: the context's, else default)
  -o, --output table|json    status output (default table)
      --crd-group <group>    API group of the CRDs (default cardano.io, as CRD_GROUP)
`;

export interface OpsIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** Wall clock (injected for tests). */
  readonly now?: () => Date;
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        context: { type: 'string', multiple: true },
        kubeconfig: { type: 'string' },
        'crd-group': { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        output: { type: 'string', short: 'o' },
        to: { type: 'string' },
        for: { type: 'string' },
        clear: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new OpsError(error instanceof Error ? error.message : String(error), 2);
  }
}

async function status(targets: readonly Target[], output: string, io: OpsIo): Promise<number> {
  const problems: string[] = [];
  const clusters = [];
  const perTarget = [];
  // One unreachable region must not hide the others: collect what each context answers.
  for (const target of targets) {
    try {
      // In order, so the first missing permission or CRD reported is the clusters'.
      const found = await listAll([target]);
      const leaders = await listLeaders(target);
      const leases = await listLeases(target);
      clusters.push(...found);
      perTarget.push({ context: target.context, namespace: target.namespace, leaders, leases });
    } catch (error) {
      if (!(error instanceof OpsError)) throw error;
      problems.push(error.message);
    }
  }
  const view = statusView(clusters, perTarget);
  io.stdout.write(
    output === 'json' ? `${JSON.stringify({ ...view, errors: problems }, null, 2)}\n` : renderStatus(view),
  );
  for (const p of problems) io.stderr.write(`error: ${p}\n`);
  return problems.length > 0 ? 1 : 0;
}

export async function runOps(io: OpsIo): Promise<number> {
  try {
    const { values, positionals } = parse(io.argv);
    const [command, ...rest] = positionals;
    if (values.help) {
      io.stdout.write(OPS_HELP);
      return 0;
    }
    const contexts = (values.context ?? [])
      .flatMap((c) => c.split(','))
      .map((c) => c.trim())
      .filter(Boolean);
    const targets = resolveTargets(
      loadKubeConfig(io.env, values.kubeconfig),
      contexts,
      values.namespace,
      values['crd-group'],
    );
    const now = io.now?.() ?? new Date();
    switch (command) {
      case 'status': {
        const output = values.output ?? 'table';
        if (output !== 'table' && output !== 'json')
          throw new OpsError(`-o must be table or json, got ${output}`, 2);
        if (rest.length > 0) throw new OpsError(`status takes no arguments, got: ${rest.join(' ')}`, 2);
        return await status(targets, output, io);
      }
      case 'maintenance': {
        const [cluster, mode, ...extra] = rest;
        if (!cluster || (mode !== 'on' && mode !== 'off') || extra.length > 0)
          throw new OpsError('usage: forge-manager maintenance <cluster> on|off', 2);
        const result = await maintenance(targets, cluster, mode, now);
        io.stdout.write(`${result.message}\n`);
        return 0;
      }
      case 'failover': {
        if (rest.length > 0)
          throw new OpsError(`failover takes no positional arguments, got: ${rest.join(' ')}`, 2);
        if (values.clear) {
          if (values.to !== undefined || values.for !== undefined)
            throw new OpsError('--clear cannot be combined with --to or --for', 2);
          for (const step of await clearFailover(targets))
            io.stdout.write(`${step.context}/${step.cluster}: override ${step.override}\n`);
          return 0;
        }
        if (!values.to)
          throw new OpsError('usage: forge-manager failover --to <cluster> [--for 2h] (or --clear)', 2);
        const forMs = values.for === undefined ? null : parseDuration(values.for);
        for (const step of await failover(targets, values.to, forMs, now))
          io.stdout.write(`${step.context}/${step.cluster}: ${step.override}\n`);
        return 0;
      }
      default:
        throw new OpsError(`unknown operator command ${JSON.stringify(command)}\n\n${OPS_HELP}`, 2);
    }
  } catch (error) {
    if (!(error instanceof OpsError)) throw error;
    io.stderr.write(`forge-manager: ${error.message}\n`);
    return error.exitCode;
  }
}
