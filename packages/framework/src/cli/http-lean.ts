/**
 * Node's `http` module has three lazy exports, WebSocket, CloseEvent and MessageEvent, that load
 * Node's bundled copy of undici (~4.5 MiB of RSS) when read. The ES-module view of a built-in
 * reads every export of it when it is first imported, so a single `import http from 'node:http'`
 * (the Kubernetes client library and its proxy agents have one) loads that copy, although nothing
 * in the sidecar uses it.
 *
 * importHttpLean creates that view while the three are plain `undefined` values, then puts Node's
 * lazy getters back: `require('node:http').WebSocket`, `http.WebSocket` on the default import and
 * `globalThis.WebSocket` work as before (and load the bundled undici when used); only the named
 * ES-module imports of these three from 'node:http' are undefined in this process.
 * It must run before anything else imports 'node:http' as an ES module.
 */
import { createRequire } from 'node:module';

const LAZY_EXPORTS = ['WebSocket', 'CloseEvent', 'MessageEvent'] as const;

export async function importHttpLean(): Promise<void> {
  const http = createRequire(import.meta.url)('node:http') as Record<string, unknown>;
  const saved = new Map<string, PropertyDescriptor>();
  for (const name of LAZY_EXPORTS) {
    const descriptor = Object.getOwnPropertyDescriptor(http, name);
    // Already a value (a future Node, or the view exists already): nothing to keep lazy.
    if (descriptor?.get === undefined || descriptor.configurable !== true) continue;
    saved.set(name, descriptor);
    Object.defineProperty(http, name, {
      value: undefined,
      configurable: true,
      enumerable: true,
      writable: true,
    });
  }
  try {
    await import('node:http');
  } finally {
    for (const [name, descriptor] of saved) Object.defineProperty(http, name, descriptor);
  }
}
