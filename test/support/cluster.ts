// Helpers for integration tests that talk to the control plane started by
// test/controlplane/global-setup.ts (or the cluster named by FORGE_TEST_KUBECONFIG).
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

/** A fresh KubeConfig for the shared test cluster (cluster-admin). */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(inject('forgeKubeconfig'));
  return kc;
}

export interface TestNamespace {
  readonly name: string;
  cleanup(): Promise<void>;
}

const DNS_LABEL_MAX = 63;

/** `prefix` is lower-cased and reduced to DNS-1123 characters; a random suffix makes it unique. */
export function uniqueNamespaceName(prefix = 'forge-test'): string {
  const suffix = randomBytes(4).toString('hex');
  const cleaned = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, DNS_LABEL_MAX - suffix.length - 1)
    .replace(/-+$/, '');
  return `${cleaned === '' ? 'ns' : cleaned}-${suffix}`;
}

/**
 * Creates a namespace with a unique name. Without a controller manager, a deleted namespace
 * stays Terminating forever, so names are never reused and cleanup only requests deletion.
 */
export async function createTestNamespace(kc: KubeConfig, prefix?: string): Promise<TestNamespace> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = uniqueNamespaceName(prefix);
  await core.createNamespace({
    body: { metadata: { name, labels: { 'app.kubernetes.io/part-of': 'cardano-forge-tests' } } },
  });
  return {
    name,
    async cleanup() {
      try {
        await core.deleteNamespace({ name });
      } catch (error) {
        if (httpStatusOf(error) !== 404) throw error;
      }
    },
  };
}

export type ClientErrorReason = 'http-status' | 'connection-refused' | 'timeout' | 'network' | 'unknown';

export interface ClassifiedClientError {
  readonly reason: ClientErrorReason;
  readonly message: string;
  /** HTTP status for `http-status`, errno code (ECONNREFUSED, ...) for network errors. */
  readonly code?: number | string;
}

/** HTTP status of an ApiException (no instanceof: duplicate package copies would break it). */
export function httpStatusOf(error: unknown): number | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}

/** Tells HTTP answers from transport failures for @kubernetes/client-node 2.x errors. */
export function classifyClientError(error: unknown): ClassifiedClientError {
  const message = error instanceof Error ? error.message : String(error);
  const status = httpStatusOf(error);
  if (status !== undefined) return { reason: 'http-status', message, code: status };
  const name = error instanceof Error ? error.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return { reason: 'timeout', message };
  // 2.x wraps transport errors: TypeError('fetch failed') with the errno in .cause.code.
  const cause =
    typeof error === 'object' && error !== null ? (error as { cause?: unknown }).cause : undefined;
  const errno =
    (typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined) ??
    (typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined);
  if (errno === 'ECONNREFUSED') return { reason: 'connection-refused', message, code: errno };
  if (typeof errno === 'string') return { reason: 'network', message, code: errno };
  return { reason: 'unknown', message };
}
