import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { TOKENS } from '../di/tokens.js';
import { createPluginHost } from '../plugin/instantiate.js';
import { FakeCredentials, FakeElector, FakeNode } from '../testing/fakes.js';
import { createSidecarContainer } from './assembly.js';

const config = parseConfig({ podName: 'bp-0', namespace: 'pool', http: { host: '127.0.0.1', port: 0 } });
const options = { env: {}, version: '0.0.0-test' };

describe('createSidecarContainer', () => {
  it('fills every part of the sidecar from the config when nothing is replaced', () => {
    const { container, replaced } = createSidecarContainer(config, options);
    expect(replaced('leader-elector')).toBe(false);
    expect(replaced('credential-provisioner')).toBe(false);
    expect(container.resolve(TOKENS.sidecarSettings)).toMatchObject({
      info: { podName: 'bp-0', namespace: 'pool', version: '0.0.0-test' },
      http: { host: '127.0.0.1', port: 0 },
      // The revocation budget of the default 15/10/2 s lease (core/timing.ts).
      callTimeoutMs: expect.any(Number),
    });
    expect(typeof container.resolve(TOKENS.nodeController).observe).toBe('function');
    expect(container.resolve(TOKENS.clusterPolicy).snapshot()).toMatchObject({ forgingAllowed: true });
    // The elector the sidecar runs is the configured plugin, which only plugin creation registers.
    expect(() => container.resolve(TOKENS.leaderElector)).toThrow(/LocalLeaderElector/);
    const local = new FakeElector([]);
    container.registerValue(TOKENS.localLeaderElector, local);
    expect(container.resolve(TOKENS.leaderElector)).toBe(local);
  });

  it('a replacement registered in configure wins, and its plugin kind is marked replaced', () => {
    const node = new FakeNode([]);
    const credentials = new FakeCredentials([]);
    const { container, replaced } = createSidecarContainer(config, {
      ...options,
      configure: (c) => {
        c.registerValue(TOKENS.nodeController, node);
        c.registerValue(TOKENS.credentialProvisioner, credentials);
      },
    });
    expect(container.resolve(TOKENS.nodeController)).toBe(node);
    expect(container.resolve(TOKENS.credentialProvisioner)).toBe(credentials);
    expect(replaced('credential-provisioner')).toBe(true);
    expect(replaced('leader-elector')).toBe(false);
    expect(replaced('health-probe')).toBe(false);
  });

  it('replacing the elector the sidecar runs means the configured elector plugin is not created', () => {
    const elector = new FakeElector([]);
    const { container, replaced } = createSidecarContainer(config, {
      ...options,
      configure: (c) => c.registerValue(TOKENS.leaderElector, elector),
    });
    expect(replaced('leader-elector')).toBe(true);
    expect(container.resolve(TOKENS.leaderElector)).toBe(elector);
  });

  it('a replaced clock is the one every plugin gets through the plugin host', async () => {
    const clock = { monotonicMs: () => 42, wallNow: () => new Date(0), sleep: async () => undefined };
    const { container } = createSidecarContainer(config, {
      ...options,
      configure: (c) => c.registerValue(TOKENS.clock, clock),
    });
    const host = createPluginHost(container, new AbortController().signal);
    expect(host.clock).toBe(clock);
    expect(host.identity).toMatchObject({ podName: 'bp-0', namespace: 'pool' });
    await host.http.dispatcher.close();
  });
});
