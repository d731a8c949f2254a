import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { failSafeRevoke, failSafeTargetsFromEnv } from './fail-safe.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('fail-safe', () => {
  it('takes paths from the Python variables, else their defaults', () => {
    expect(failSafeTargetsFromEnv({})).toEqual({
      credentialPaths: [
        '/opt/cardano/secrets/kes.skey',
        '/opt/cardano/secrets/vrf.skey',
        '/opt/cardano/secrets/node.cert',
      ],
      socketPath: '/ipc/node.socket',
      processName: 'cardano-node',
    });
    const t = failSafeTargetsFromEnv({ TARGET_KES_KEY: '/k', NODE_SOCKET: '/s', TARGET_VRF_KEY: '' });
    expect(t.credentialPaths).toEqual([
      '/k',
      '/opt/cardano/secrets/vrf.skey',
      '/opt/cardano/secrets/node.cert',
    ]);
    expect(t.socketPath).toBe('/s');
  });

  it('removes every credential file that is there and says that no node could be signalled', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-failsafe-'));
    dirs.push(dir);
    const paths = ['kes.skey', 'vrf.skey', 'node.cert'].map((f) => join(dir, f));
    await writeFile(paths[0]!, 'x');
    await writeFile(paths[2]!, 'y');
    const out = await failSafeRevoke(
      { credentialPaths: paths, socketPath: join(dir, 'node.socket'), processName: 'cardano-node-none' },
      pino({ level: 'silent' }),
    );
    expect(out.removed).toEqual([paths[0], paths[2]]);
    expect(out.signalled).toBe(false);
    expect(out.message).toMatch(/removed 2 credential file\(s\); node not signalled/);
    for (const p of paths) expect(existsSync(p)).toBe(false);
  });
});
