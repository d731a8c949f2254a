// End-to-end: the sidecar processes react to the cluster policy (CardanoForgeCluster edits) and to
// bad credential input by failing closed, on a real kube-apiserver with simulated nodes.
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  CoordinationV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  VRF_KEY_TYPE,
  fakeEnvelope,
  freshKesAndOpCert,
  writeFakeCredentials,
} from '../cardano-node-sim/credentials.ts';
import { testKubeConfig } from '../support/cluster.ts';
import { waitFor } from '../support/forge-pod.ts';
import { writeSecretGeneration } from '../support/secret-mount.ts';
import {
  assertZeroOverlap,
  cleanupPools,
  forgers,
  startPool,
  waitConverged,
  waitForSingleForger,
} from '../support/forge-pool.ts';

afterEach(cleanupPools);

describe('cluster policy drives the sidecars', () => {
  it('forgeState Disabled stops forging within one loop and releases the lease; Priority-based resumes', async () => {
    const kc = testKubeConfig();
    const pool = await startPool(kc, inject('forgeKubeconfig'), {
      extraEnv: {
        ENABLE_CLUSTER_MANAGEMENT: 'true',
        CLUSTER_IDENTIFIER: 'e2e-cluster',
        CLUSTER_REGION: 'test-1',
      },
    });
    const leader = await waitForSingleForger(pool);
    await waitConverged(pool);
    const api = kc.makeApiClient(CustomObjectsApi);
    const ref = {
      group: 'cardano.io',
      version: 'v1',
      namespace: pool.namespace,
      plural: 'cardanoforgeclusters',
      name: 'e2e-cluster',
    };
    const patch = (forgeState: string) =>
      api.patchNamespacedCustomObject(
        { ...ref, body: { spec: { forgeState } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );

    const t0 = Date.now();
    await patch('Disabled');
    await waitFor('nobody forges', async () => (await forgers(pool)).length === 0, 10_000);
    const stopMs = Date.now() - t0;
    console.log(`[policy] forgeState Disabled → forging stopped after ${stopMs} ms`);
    expect(stopMs).toBeLessThan(5000);
    const status = await leader.status();
    expect(status?.decision.reason).toBe('PolicyDisallows');
    for (const p of pool.pods)
      expect([p.options.name, existsSync(join(p.targetDir, 'kes.skey'))]).toEqual([p.options.name, false]);
    // Withdrawn holders release the lease: nobody holds it while the cluster is disabled.
    const coord = kc.makeApiClient(CoordinationV1Api);
    await waitFor('lease released', async () => {
      const lease = await coord.readNamespacedLease({
        name: 'cardano-node-leader',
        namespace: pool.namespace,
      });
      return (lease.spec?.holderIdentity ?? '') === '';
    });
    await new Promise((r) => setTimeout(r, 2000));
    expect((await forgers(pool)).length).toBe(0);

    await patch('Priority-based');
    const next = await waitForSingleForger(pool, undefined, 15_000);
    console.log(`[policy] forgeState Priority-based → ${next.options.name} forges again`);
    await assertZeroOverlap(pool);
  });
});

describe('a sidecar that cannot start fails closed', () => {
  it('restarted with a broken config, it withdraws its node from forging before exiting; a standby takes over', async () => {
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'), { size: 2 });
    const leader = await waitForSingleForger(pool);
    await waitConverged(pool);
    // The leader's sidecar dies; kubelet restarts it with a bad rollout (invalid LEASE_DURATION).
    leader.killSidecar('SIGKILL');
    await leader.sidecarExit;
    expect((await forgers(pool)).map((p) => p.options.name)).toEqual([leader.options.name]);
    const run = await leader.runExpectingExit({ LEASE_DURATION: 'abc' });
    expect(run.code).toBe(2);
    expect(run.output).toContain(
      'election.leaseDurationSeconds (from env LEASE_DURATION): expected an integer, got "abc"',
    );
    expect(run.output).toMatch(/fail-safe: removed 3 credential file\(s\); node signalled/);
    for (const f of ['kes.skey', 'vrf.skey', 'node.cert'])
      expect(existsSync(join(leader.targetDir, f))).toBe(false);
    expect((await leader.node!.metrics()).forgingEnabled).toBe(false);
    // The lease expires and the standby forges; never both.
    const next = await waitForSingleForger(pool, leader, 20_000);
    expect(next).not.toBe(leader);
    await assertZeroOverlap(pool);
  });
});

describe('bad credential input fails closed', () => {
  it('an invalid KES source: nothing is written, startup is not ready, the error names the file; fixed → forging', async () => {
    const kc = testKubeConfig();
    const pool = await startPool(kc, inject('forgeKubeconfig'), {
      size: 2,
      start: false,
      writeSources: async (dir) => {
        await writeFakeCredentials(dir);
        // A VRF key where the KES key belongs: a valid envelope of the wrong type.
        await writeFile(
          join(dir, 'kes.skey'),
          JSON.stringify(fakeEnvelope('VrfSigningKey_PraosVrf', 'wrong file')),
        );
      },
    });
    for (const p of pool.pods) await p.startSidecar();
    await new Promise((r) => setTimeout(r, 2000));
    for (const p of pool.pods) {
      const r = await fetch(`${p.baseUrl}/startup-status`);
      expect(r.status).toBe(503);
      const s = await p.status();
      const creds = s?.credentials as { sourcesValid: boolean; message: string };
      expect(creds.sourcesValid).toBe(false);
      expect(creds.message).toMatch(/kes/i);
      expect(creds.message).toMatch(/VrfSigningKey_PraosVrf/);
      expect(creds.message).not.toMatch(/cborHex"\s*:\s*"[0-9a-f]{8}/);
      expect(existsSync(join(p.targetDir, 'kes.skey'))).toBe(false);
      expect(existsSync(join(p.targetDir, 'vrf.skey'))).toBe(false);
    }
    // The operator fixes the Secret: startup completes and exactly one node forges.
    await writeFakeCredentials(pool.sourceDir);
    for (const p of pool.pods) await p.waitStartupReady();
    for (const p of pool.pods) await p.startNode();
    await waitForSingleForger(pool);
    await assertZeroOverlap(pool);
  });

  it('a rotation to a malformed KES on a forging leader revokes everything (no partial set) and nobody forges', async () => {
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'), { size: 2 });
    const leader = await waitForSingleForger(pool);
    await waitConverged(pool);
    await writeFile(
      join(pool.sourceDir, 'kes.skey'),
      '{"type": "KesSigningKey_ed25519_kes_2^6", "cborHex": "zz-not-hex',
    );
    await waitFor('forging stopped', async () => (await forgers(pool)).length === 0, 10_000);
    const s = await leader.status();
    expect(s?.decision.reason).toBe('CredentialsInvalid');
    for (const p of pool.pods)
      for (const f of ['kes.skey', 'vrf.skey', 'node.cert'])
        expect([p.options.name, f, existsSync(join(p.targetDir, f))]).toEqual([p.options.name, f, false]);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await forgers(pool)).length).toBe(0);
    // Sanity: the source is still the broken one (nothing rewrote it), and a fix brings forging back.
    expect(await readFile(join(pool.sourceDir, 'kes.skey'), 'utf8')).toContain('zz-not-hex');
    await writeFakeCredentials(pool.sourceDir);
    await waitForSingleForger(pool, undefined, 15_000);
    await assertZeroOverlap(pool);
  });

  it('a Secret rotation to a KES key the opcert was not issued for: the forging leader withdraws, nobody forges; the matching opcert → forging again', async () => {
    const first = freshKesAndOpCert();
    const vrf = JSON.stringify(fakeEnvelope(VRF_KEY_TYPE, 'VRF Signing Key'), null, 4);
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'), {
      size: 2,
      writeSources: (dir) =>
        writeSecretGeneration(dir, 'gen1', {
          'kes.skey': first.kesKey,
          'vrf.skey': vrf,
          'node.cert': first.opCert,
        }),
    });
    const leader = await waitForSingleForger(pool);
    await waitConverged(pool);
    // Half a rotation: the Secret gets a new KES key but keeps the old certificate.
    const rotated = freshKesAndOpCert();
    await writeSecretGeneration(pool.sourceDir, 'gen2', {
      'kes.skey': rotated.kesKey,
      'vrf.skey': vrf,
      'node.cert': first.opCert,
    });
    await waitFor('forging stopped', async () => (await forgers(pool)).length === 0, 10_000);
    const s = await leader.status();
    expect(s?.decision.reason).toBe('CredentialsInvalid');
    const creds = s?.credentials as { sourcesValid: boolean; message: string };
    expect(creds.sourcesValid).toBe(false);
    expect(creds.message).toContain(
      `the KES key ${join(pool.sourceDir, 'kes.skey')} does not belong to the operational certificate ${join(pool.sourceDir, 'node.cert')}`,
    );
    expect(creds.message).toContain('issue a new opcert for this KES key (cardano-cli node issue-op-cert)');
    const rotatedHex = (JSON.parse(rotated.kesKey) as { cborHex: string }).cborHex;
    expect(creds.message).not.toContain(rotatedHex.slice(6, 22)); // no signing-key bytes
    for (const p of pool.pods)
      for (const f of ['kes.skey', 'vrf.skey', 'node.cert'])
        expect([p.options.name, f, existsSync(join(p.targetDir, f))]).toEqual([p.options.name, f, false]);
    // Nobody takes over with the mismatched set.
    await new Promise((r) => setTimeout(r, 2000));
    expect((await forgers(pool)).length).toBe(0);

    // The operator completes the rotation: the certificate issued for the new KES key.
    await writeSecretGeneration(pool.sourceDir, 'gen3', {
      'kes.skey': rotated.kesKey,
      'vrf.skey': vrf,
      'node.cert': rotated.opCert,
    });
    const next = await waitForSingleForger(pool, undefined, 15_000);
    expect(await readFile(join(next.targetDir, 'kes.skey'), 'utf8')).toBe(rotated.kesKey);
    expect(await readFile(join(next.targetDir, 'node.cert'), 'utf8')).toBe(rotated.opCert);
    await assertZeroOverlap(pool);
  });
});
