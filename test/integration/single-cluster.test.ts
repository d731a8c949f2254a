// Issue #4 scenarios: three real forge-manager processes beside three simulated cardano-nodes on a
// real kube-apiserver. Every scenario asserts zero forging overlap from the simulators' event logs
// and prints the handoff time it measured.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { VRF_KEY_TYPE, fakeEnvelope, freshKesAndOpCert } from '../cardano-node-sim/credentials.ts';
import { readEvents } from '../cardano-node-sim/overlap.ts';
import { hostClockMs } from '../cardano-node-sim/events.ts';
import { startControlPlane, type ControlPlane } from '../controlplane/index.ts';
import { testKubeConfig } from '../support/cluster.ts';
import { waitFor, type ForgePod } from '../support/forge-pod.ts';
import { writeSecretGeneration } from '../support/secret-mount.ts';
import {
  TIMINGS,
  assertZeroOverlap,
  cleanupPools,
  forgers,
  forgingOnAfter,
  startPool,
  waitConverged,
  waitForSingleForger,
} from '../support/forge-pool.ts';

afterEach(cleanupPools);

describe('single cluster forging on a real kube-apiserver', () => {
  it('cold start of three: exactly one forges, the others hold no credentials', async () => {
    const kc = testKubeConfig();
    const pool = await startPool(kc, inject('forgeKubeconfig'));
    const leader = await waitForSingleForger(pool);
    // Converged: the leader reports Forging, the others NotLeader with no files.
    await waitFor('followers converged', async () => {
      const statuses = await Promise.all(pool.pods.map((p) => p.status()));
      return statuses.every((s, i) =>
        pool.pods[i] === leader
          ? s?.decision.forge === true
          : s?.decision.reason === 'NotLeader' && s.decision.actions.length === 0,
      );
    });
    const { existsSync } = await import('node:fs');
    for (const p of pool.pods) expect(existsSync(join(p.targetDir, 'kes.skey'))).toBe(p === leader);
    // cardano_forging_enabled counts what the node confirmed (its metric, read on the next tick).
    await waitFor('forging confirmed on the leader', async () =>
      /cardano_forging_enabled\{[^}]*pod="bp-\d"[^}]*\} 1/.test(await leader.metricsText()),
    );
    const metrics = await leader.metricsText();
    expect(metrics).toMatch(/cardano_leader_status\{[^}]*\} 1/);
    expect(metrics).toMatch(/cardano_sighup_signals_total\{reason="enable_forging"\} 1/);
    // The node's own forging metric confirms the decision (NODE_METRICS_URL is set for every pod).
    await waitFor('node forging confirmed', async () =>
      /cardano_forge_node_forging_confirmed 1\b/.test(await leader.metricsText()),
    );
    expect(await leader.metricsText()).toMatch(/cardano_forge_node_forging_mismatch 0\b/);
    const follower = pool.pods.find((p) => p !== leader)!;
    expect(await follower.metricsText()).toMatch(/cardano_forge_node_forging_confirmed 0\b/);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await forgers(pool)).length).toBe(1);
    await assertZeroOverlap(pool);
  });

  it('leader SIGTERM: planned handoff well under 2 s, zero overlap', async () => {
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'));
    const leader = await waitForSingleForger(pool);
    const t0 = hostClockMs();
    const code = await leader.stopSidecar();
    expect(code).toBe(0);
    const next = await waitForSingleForger(pool, leader, 10_000);
    const handoffMs = await forgingOnAfter(pool, t0, leader.options.name);
    console.log(
      `[handoff] SIGTERM of ${leader.options.name} → ${next.options.name} forging after ${handoffMs.toFixed(0)} ms`,
    );
    expect(handoffMs).toBeLessThan(2000);
    await assertZeroOverlap(pool);
  });

  it('leader sidecar SIGKILLed and restarted like kubelet would: the restarted process is a new incarnation that revokes, then one forges again, never two forgers', async () => {
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'));
    const leader = await waitForSingleForger(pool);
    const t0 = hostClockMs();
    leader.killSidecar('SIGKILL');
    await leader.sidecarExit;
    // kubelet restarts a crashed native sidecar. The lease names the killed process's identity
    // (<pod>_<incarnation>), not the restarted one: the restarted sidecar must not take it as its
    // own (issue 8, item 5). It withdraws its node's credentials on its first tick, and a pod
    // (any, itself included) forges again once the old incarnation's lease has expired.
    await leader.startSidecar();
    await waitFor(
      'the restarted sidecar to withdraw its node',
      async () =>
        (await readEvents([pool.eventLog])).some(
          (e) => e.event === 'forging-off' && e.identity === leader.options.name && e.ts >= t0,
        ),
      20_000,
    );
    const next = await waitForSingleForger(pool, undefined, 20_000);
    const events = await readEvents([pool.eventLog]);
    const on = events.find((e) => e.event === 'forging-on' && e.ts >= t0);
    console.log(
      `[failover] SIGKILL+restart of sidecar ${leader.options.name}: ${next.options.name} forging ${on ? (on.ts - t0).toFixed(0) : '?'} ms after the kill`,
    );
    expect(on).toBeDefined();
    expect(on!.ts - t0).toBeLessThan((TIMINGS.leaseDuration + TIMINGS.retryPeriod + 2) * 1000);
    await assertZeroOverlap(pool);
  });

  it('leader pod killed (sidecar and node SIGKILLed): a standby forges within LD + RP + 1 s, zero overlap', async () => {
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'));
    const leader = await waitForSingleForger(pool);
    const t0 = hostClockMs();
    leader.killSidecar('SIGKILL');
    leader.node!.kill('SIGKILL');
    await Promise.all([leader.sidecarExit, leader.node!.exited]);
    const next = await waitForSingleForger(pool, leader, 20_000);
    const failoverMs = await forgingOnAfter(pool, t0, leader.options.name);
    console.log(
      `[failover] pod kill of ${leader.options.name} → ${next.options.name} forging after ${failoverMs.toFixed(0)} ms (LD ${TIMINGS.leaseDuration} s)`,
    );
    expect(failoverMs).toBeLessThan((TIMINGS.leaseDuration + TIMINGS.retryPeriod + 1) * 1000);
    await assertZeroOverlap(pool);
  });

  it("leader's node crashes leaving a stale socket: a standby forges, zero overlap", async () => {
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'));
    const leader = await waitForSingleForger(pool);
    const t0 = hostClockMs();
    await leader.node!.crash();
    const { existsSync } = await import('node:fs');
    expect(existsSync(leader.socketPath)).toBe(true); // stale socket file left behind
    const next = await waitForSingleForger(pool, leader, 20_000);
    const failoverMs = await forgingOnAfter(pool, t0, leader.options.name);
    console.log(
      `[failover] node crash of ${leader.options.name} → ${next.options.name} forging after ${failoverMs.toFixed(0)} ms`,
    );
    expect(failoverMs).toBeLessThan((TIMINGS.leaseDuration + TIMINGS.retryPeriod + 1) * 1000);
    const status = await leader.status();
    expect(status?.decision.reason).toBe('NodeSocketStale');
    await assertZeroOverlap(pool);
  });

  it('KES rotation in the Secret: re-provisioned and signalled on the leader only', async () => {
    const initial = freshKesAndOpCert();
    const vrf = JSON.stringify(fakeEnvelope(VRF_KEY_TYPE, 'VRF Signing Key'), null, 4);
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'), {
      writeSources: (dir) =>
        writeSecretGeneration(dir, 'initial', {
          'kes.skey': initial.kesKey,
          'vrf.skey': vrf,
          'node.cert': initial.opCert,
        }),
    });
    const leader = await waitForSingleForger(pool);
    await waitFor('followers quiet', async () => {
      const s = await Promise.all(pool.pods.map((p) => p.status()));
      return s.every((x) => x && x.decision.actions.length === 0);
    });
    const before = await readEvents([pool.eventLog]);
    const hupsBefore = (id: string) => before.filter((e) => e.event === 'sighup' && e.identity === id).length;
    const counts = Object.fromEntries(pool.pods.map((p) => [p.options.name, hupsBefore(p.options.name)]));
    // Kubelet updates a Secret volume by swapping the files: a new KES key (same type, new bytes)
    // with the operational certificate issued for it.
    const fresh = freshKesAndOpCert();
    await writeSecretGeneration(pool.sourceDir, 'rotated', {
      'kes.skey': fresh.kesKey,
      'vrf.skey': vrf,
      'node.cert': fresh.opCert,
    });
    const newKes = await readFile(join(pool.sourceDir, 'kes.skey'), 'utf8');
    expect(newKes).toBe(fresh.kesKey);
    await waitFor(
      'leader re-provisioned the new KES',
      async () => (await readFile(join(leader.targetDir, 'kes.skey'), 'utf8')) === newKes,
    );
    await waitFor('leader signalled', async () => {
      const ev = await readEvents([pool.eventLog]);
      return (
        ev.filter((e) => e.event === 'sighup' && e.identity === leader.options.name).length >
        counts[leader.options.name]!
      );
    });
    await new Promise((r) => setTimeout(r, 1500));
    const after = await readEvents([pool.eventLog]);
    for (const p of pool.pods) {
      if (p === leader) continue;
      expect(after.filter((e) => e.event === 'sighup' && e.identity === p.options.name).length).toBe(
        counts[p.options.name],
      );
    }
    expect((await forgers(pool)).map((p) => p.options.name)).toEqual([leader.options.name]);
    await assertZeroOverlap(pool);
  });
});

describe('tip gate', () => {
  it('a standby behind the chain tip does not take over; the standby at the tip does', async () => {
    // The simulator counts slots from 2020-07-29T21:44:51Z at one per second: give the sidecars that reference.
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'), {
      extraEnv: {
        NODE_MAX_SLOT_LAG: '30',
        NODE_SLOT_REFERENCE_SLOT: '0',
        NODE_SLOT_REFERENCE_UNIX: '1596059091',
      },
    });
    const leader = await waitForSingleForger(pool);
    await waitConverged(pool);
    const [behind, atTip] = pool.pods.filter((p) => p !== leader) as [ForgePod, ForgePod];
    await behind.node!.behind(300);
    await waitFor('the lagging standby reports BehindTip', async () => {
      const s = await behind.status();
      return s?.decision.reason === 'BehindTip' && s.decision.candidate === false;
    });
    const t0 = hostClockMs();
    leader.killSidecar('SIGKILL');
    leader.node!.kill('SIGKILL');
    const next = await waitForSingleForger(pool, leader, 20_000);
    expect(next.options.name).toBe(atTip.options.name);
    console.log(
      `[tip-gate] ${behind.options.name} (300 slots behind) stayed standby; ${next.options.name} took over after ${(hostClockMs() - t0).toFixed(0)} ms`,
    );
    const events = await readEvents([pool.eventLog]);
    expect(events.some((e) => e.event === 'forging-on' && e.identity === behind.options.name)).toBe(false);
    await assertZeroOverlap(pool);
  });
});

describe('misconfigured node: started without --start-as-non-producing-node', () => {
  it('is detected, forging is withdrawn within a tick, and it gets no startup credentials again', async () => {
    const pool = await startPool(testKubeConfig(), inject('forgeKubeconfig'), { size: 2 });
    const leader = await waitForSingleForger(pool);
    await waitConverged(pool);
    const standby = pool.pods.find((p) => p !== leader)!;
    // Restart the standby's node without the flag: its sidecar hands out startup credentials while
    // the node is down (configured startAsNonProducing), so the node forges from its first moment.
    await standby.node!.stop();
    await waitFor('startup credentials back', async () => existsSync(join(standby.targetDir, 'kes.skey')));
    const t0 = hostClockMs();
    await standby.startNode({ nonProducing: false });
    const standbyEvent = async (kind: string, after: number) =>
      (await readEvents([pool.eventLog])).find(
        (e) => e.identity === standby.options.name && e.event === kind && e.ts >= after,
      );
    const on = await waitFor(
      'the misconfigured node forges at start',
      () => standbyEvent('forging-on', t0),
      10_000,
    );
    const off = await waitFor('its sidecar withdraws it', () => standbyEvent('forging-off', on.ts), 10_000);
    console.log(
      `[misconfig] node without the flag forged for ${(off.ts - on.ts).toFixed(0)} ms before its sidecar withdrew it`,
    );
    // The sidecar polls a starting node every 200 ms, so the window is a fraction of a second.
    expect(off.ts - on.ts).toBeLessThan(1500);
    await waitFor('flag reported', async () =>
      /cardano_forge_node_start_flag_missing 1\b/.test(await standby.metricsText()),
    );
    // Next restart: no startup credentials any more, so this node cannot forge at start again.
    await standby.node!.stop();
    await new Promise((r) => setTimeout(r, 2 * TIMINGS.retryPeriod * 1000));
    expect(existsSync(join(standby.targetDir, 'kes.skey'))).toBe(false);
    const t1 = hostClockMs();
    await standby.startNode({ nonProducing: false });
    await new Promise((r) => setTimeout(r, 1500));
    const later = await readEvents([pool.eventLog]);
    expect(
      later.some((e) => e.identity === standby.options.name && e.event === 'forging-on' && e.ts >= t1),
    ).toBe(false);
    expect((await forgers(pool)).map((p) => p.options.name)).toEqual([leader.options.name]);
  });
});

describe('API server outage longer than the lease', () => {
  let cp: ControlPlane | null = null;
  afterEach(async () => {
    await cp?.stop();
    cp = null;
  });

  it('the leader fences itself before anyone could take over; one forger again after restart', async () => {
    cp = await startControlPlane({ name: `outage-${process.pid}` });
    const pool = await startPool(cp.kubeConfig(), cp.kubeconfigPath);
    const leader = await waitForSingleForger(pool);
    const t0 = hostClockMs();
    await cp.stopApiserver();
    // Nobody can renew: the leader must stop forging by renewDeadline (plus a tick), fail closed,
    // i.e. before a standby could have taken the lease (leaseDuration after the last renewal).
    await waitFor('leader fenced', async () => (await forgers(pool)).length === 0, 15_000);
    const off = (await readEvents([pool.eventLog])).find(
      (e) => e.event === 'forging-off' && e.identity === leader.options.name && e.ts >= t0,
    );
    const fencedMs = off!.ts - t0;
    console.log(
      `[outage] leader ${leader.options.name} stopped forging ${fencedMs.toFixed(0)} ms after the apiserver was told to stop`,
    );
    expect(fencedMs).toBeLessThan(TIMINGS.leaseDuration * 1000);
    await new Promise((r) => setTimeout(r, (TIMINGS.leaseDuration + 2) * 1000));
    expect((await forgers(pool)).length).toBe(0);
    await cp.startApiserver();
    const next = await waitForSingleForger(pool, undefined, 40_000);
    console.log(`[outage] after restart ${next.options.name} forges`);
    await assertZeroOverlap(pool);
  });
});
