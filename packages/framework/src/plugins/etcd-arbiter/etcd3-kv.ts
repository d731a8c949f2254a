/**
 * The production EtcdKv over the `etcd3` client (gRPC). Loaded with a dynamic import only in
 * global mode, so a single-cluster sidecar never loads gRPC.
 *
 * etcd3 retries and keeps streams open for ever: every call here carries a gRPC deadline and is
 * also raced against the caller's signal, and an abandoned call is the caller's "unknown outcome".
 * Keepalives are single round trips on a fresh stream (etcd3's automatic keepalive hides its send
 * times and declares a lease lost far too late — docs/coordination.md, measured fact 5).
 */
import { readFile } from 'node:fs/promises';
import type { Etcd3, IOptions } from 'etcd3';
import type { EtcdEntry, EtcdKv, EtcdLeaseId } from './etcd-kv.js';

export interface Etcd3KvOptions {
  readonly endpoints: readonly string[];
  /** PEM files from a mounted Secret; all three or none (server-only TLS: only the CA). */
  readonly tls?: {
    readonly caFile?: string | undefined;
    readonly certFile?: string | undefined;
    readonly keyFile?: string | undefined;
  };
  /** Upper bound on one call when the caller's signal allows longer. */
  readonly callTimeoutMs: number;
}

/** The smallest key greater than every key with this prefix (etcd's range_end for a prefix). */
export function prefixRangeEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix, 'utf8');
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = (): void =>
      reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

async function within<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
  if (signal.aborted) return aborted(signal);
  return Promise.race([call(), aborted(signal)]);
}

function entryOf(kv: {
  key: Buffer;
  value: Buffer;
  lease: string;
  create_revision: string;
  mod_revision: string;
}): EtcdEntry {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    lease: String(kv.lease ?? '0'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

export async function createEtcd3Kv(options: Etcd3KvOptions): Promise<EtcdKv> {
  if (options.endpoints.length === 0)
    throw new Error('etcdArbiter.endpoints: at least one endpoint is required');
  const [{ Etcd3: Client }, { circuitBreaker, ConsecutiveBreaker, handleAll }] = await Promise.all([
    import('etcd3'),
    import('cockatiel'),
  ]);
  const tls = options.tls;
  let credentials: IOptions['credentials'];
  if (tls?.caFile !== undefined || tls?.certFile !== undefined || tls?.keyFile !== undefined) {
    if ((tls.certFile === undefined) !== (tls.keyFile === undefined))
      throw new Error(
        'etcdArbiter.tls: certFile and keyFile go together (a client certificate needs its key)',
      );
    const read = async (what: string, path: string | undefined): Promise<Buffer | undefined> => {
      if (path === undefined) return undefined;
      try {
        return await readFile(path);
      } catch (error) {
        throw new Error(`etcdArbiter.tls.${what} ${path}: ${(error as Error).message}`, { cause: error });
      }
    };
    const rootCertificate = await read('caFile', tls.caFile);
    if (rootCertificate === undefined)
      throw new Error('etcdArbiter.tls.caFile is required with a client certificate (the etcd server CA)');
    const privateKey = await read('keyFile', tls.keyFile);
    const certChain = await read('certFile', tls.certFile);
    credentials = {
      rootCertificate,
      ...(privateKey ? { privateKey } : {}),
      ...(certChain ? { certChain } : {}),
    };
  }
  const timeoutMs = options.callTimeoutMs;
  const client: Etcd3 = new Client({
    hosts: [...options.endpoints],
    dialTimeout: timeoutMs,
    // etcd3 picks a random member per call and only trips a member's breaker on UNAVAILABLE. A
    // member cut off from its peers answers nothing in time (deadline exceeded), so every third
    // call would time out: one failure of any kind sets the member aside for a few rounds.
    faultHandling: {
      host: () =>
        circuitBreaker(handleAll, {
          halfOpenAfter: Math.max(2 * timeoutMs, 2000),
          breaker: new ConsecutiveBreaker(1),
        }),
    },
    ...(credentials ? { credentials } : {}),
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
  });
  const key = (k: string): Buffer => Buffer.from(k, 'utf8');
  // The watch has a client of its own: a broken watch stream makes etcd3 mark its member failed
  // and reset that member's channels, which must not cost the rounds' calls their members (seen:
  // a holder fenced for a moment when the Raft leader was killed).
  let watchClient: Etcd3 | null = null;

  return {
    async grantLease(ttlSeconds, signal) {
      const res = await within(signal, () => client.leaseClient.leaseGrant({ TTL: ttlSeconds, ID: 0 }));
      if (res.error) throw new Error(`lease grant refused: ${res.error}`);
      return { id: String(res.ID), ttlSeconds: Number(res.TTL) };
    },
    async keepAliveOnce(lease, signal) {
      const stream = await within(signal, () => client.leaseClient.leaseKeepAlive());
      try {
        const response = await within(
          signal,
          () =>
            new Promise<{ TTL: string }>((resolve, reject) => {
              stream.on('data', resolve);
              stream.on('error', reject);
              stream.on('end', () => reject(new Error('keepalive stream ended without an answer')));
              stream.write({ ID: lease });
            }),
        );
        return { ttlSeconds: Number(response.TTL) };
      } finally {
        stream.end();
      }
    },
    async revokeLease(lease, signal) {
      try {
        await within(signal, () => client.leaseClient.leaseRevoke({ ID: lease }));
      } catch (error) {
        // An unknown lease is already gone: what a revoke wants.
        if (/lease not found/i.test(String((error as Error).message))) return;
        throw error;
      }
    },
    async get(k, signal) {
      const res = await within(signal, () => client.kv.range({ key: key(k) }));
      const kv = res.kvs[0];
      return kv === undefined ? null : entryOf(kv);
    },
    async getPrefix(prefix, signal) {
      const res = await within(signal, () =>
        client.kv.range({
          key: key(prefix),
          range_end: prefixRangeEnd(prefix),
          sort_order: 'Ascend',
          sort_target: 'Key',
        }),
      );
      return { entries: res.kvs.map(entryOf), revision: Number(res.header.revision) };
    },
    async put(k, value, lease: EtcdLeaseId, signal) {
      await within(signal, () => client.kv.put({ key: key(k), value: Buffer.from(value, 'utf8'), lease }));
    },
    async createIfAbsent(k, value, lease, signal) {
      const res = await within(signal, () =>
        client.kv.txn({
          compare: [{ key: key(k), target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [{ request_put: { key: key(k), value: Buffer.from(value, 'utf8'), lease } }],
          failure: [{ request_range: { key: key(k) } }],
        }),
      );
      if (res.succeeded) return { created: true };
      const kv = res.responses[0]?.response_range?.kvs[0];
      if (kv === undefined) throw new Error('create-if-absent failed but the key was not returned');
      return { created: false, existing: entryOf(kv) };
    },
    async deleteIfLease(k, lease, signal) {
      const res = await within(signal, () =>
        client.kv.txn({
          compare: [{ key: key(k), target: 'Lease', result: 'Equal', lease }],
          success: [{ request_delete_range: { key: key(k) } }],
          failure: [],
        }),
      );
      return res.succeeded;
    },
    async watchPrefix(prefix, onChange, onError) {
      // Not create(): it waits for the connection, which a cut-off region may never get. The
      // watcher attaches at once and connects (and reconnects) in the background.
      watchClient ??= new Client({
        hosts: [...options.endpoints],
        dialTimeout: timeoutMs,
        ...(credentials ? { credentials } : {}),
      });
      const watcher = watchClient.watch().prefix(prefix).watcher();
      const forward =
        (type: 'put' | 'delete') =>
        (kv: { key: Buffer; mod_revision: string }): void =>
          onChange({ key: kv.key.toString('utf8'), type, modRevision: Number(kv.mod_revision) });
      watcher.on('put', forward('put'));
      watcher.on('delete', forward('delete'));
      // etcd3 re-establishes a broken watch by itself; the caller only logs it (reads still run).
      watcher.on('error', (error: Error) => onError(error));
      watcher.on('disconnected', (error: Error) => onError(error));
      return { close: () => watcher.cancel() };
    },
    async close() {
      watchClient?.close();
      client.close();
    },
  };
}
