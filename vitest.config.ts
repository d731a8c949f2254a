import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic, fakes allowed, fast) and `integration` (a real kube-apiserver +
// etcd started once per run by the global setup, real Prometheus, simulated cardano-nodes).
// Tests import workspace packages from their TypeScript sources through the `source` export condition.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    reporters: ['default'],
    // Both cores: the groups run one after another, so the simulation sweeps have the machine to
    // themselves, and the integration project runs one file at a time anyway.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // Groups run one after another (lowest first): the CPU-heavy simulation sweeps must not
          // share the 2 cores with the integration tests' timing measurements.
          sequence: { groupOrder: 0 },
          include: ['packages/*/src/**/*.test.ts', 'plugins/*/src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          // The deterministic simulation (test/dst): the real sidecar code on a virtual clock, on
          // the built framework (dist), so `npm test` builds first.
          name: 'sim',
          sequence: { groupOrder: 1 },
          include: ['test/dst/**/*.test.ts'],
          testTimeout: 1_800_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          sequence: { groupOrder: 2 },
          include: ['test/integration/**/*.test.ts', 'plugins/*/test/**/*.test.ts'],
          globalSetup: ['test/controlplane/global-setup.ts'],
          // Timing assertions (handoff times) need the CPU: one file at a time on 2 cores.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
