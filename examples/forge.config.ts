// Example forge.config.ts. Only a type import from the framework: Node strips it, so this file also
// works when mounted read-only from a ConfigMap outside the application tree. Plugins are named by
// npm package (resolved from the manager's install location) or by built-in name.
//
//   npm ci && npm run build
//   POD_NAME=bp-0 node packages/framework/dist/cli/main.js validate --config examples/forge.config.ts
//
// Precedence: CLI flags > environment (POD_NAME, NAMESPACE, LEASE_DURATION, ...) > this file > defaults.
import type { ForgeConfig } from '@cardano-forge/framework';

export default {
  // podName normally comes from POD_NAME (downward API); set here only for local trials.
  podName: 'example-bp-0',
  namespace: 'cardano',
  pool: {
    network: 'preprod',
    networkMagic: 1,
    id: 'pool1examplexxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    ticker: 'EXMPL',
  },
  election: { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 },
  node: { socketPath: '/ipc/node.socket', metricsUrl: 'http://127.0.0.1:12798/metrics' },
  cluster: {
    enabled: true,
    region: 'eu-west-1',
    priority: 1,
    healthCheck: { intervalSeconds: 30, timeoutSeconds: 5, failureThreshold: 3 },
  },
  http: { port: 8000 },
  log: { level: 'info' },
  plugins: {
    leaderElector: 'kubernetes-lease',
    credentialProvisioner: 'files',
    priority: { use: '@cardano-forge/priority-static', options: { minorPenalty: 10, majorPenalty: 100 } },
    health: [
      {
        use: '@cardano-forge/health-http',
        id: 'relay-api',
        options: {
          url: 'http://127.0.0.1:8090/health',
          timeoutMs: 3000,
          headers: { Authorization: 'Bearer example-token' },
        },
      },
    ],
  },
} satisfies ForgeConfig;
