/**
 * @kubernetes/client-node's KubeConfig (kubeconfig files, in-cluster service account, exec and
 * token-file auth: all kept from the library) without loading its generated API models.
 *
 * The library's config module imports the generated code's index only for two small things
 * (`createConfiguration`, `ServerConfiguration`, used by `makeApiClient`), and that index loads
 * every model and API class: ~80 MiB of RSS and ~0.5 s of start-up per process. A module
 * resolution hook, scoped to that one import edge, points it at a module exporting the same two
 * functions from their own files. Nothing else changes: `makeApiClient` still works for a plugin
 * that imports a generated API itself (it then pays for it). If a library upgrade moves these
 * files the hook simply does not match and the full index loads (a unit test notices).
 *
 * The same hook hands the config module stand-ins for its Azure, GCP and OIDC auth providers and
 * its proxy agents, which load the real ones on first use (client-node-on-use.ts).
 *
 * The same hook gives the library's config module and its fetch wrapper the framework's lean
 * undici (net/undici.ts: the same Agent and ProxyAgent classes; fetch loads the full package on
 * first use) instead of undici's package entry.
 */
import { registerHooks } from 'node:module';
import type * as ClientNode from '@kubernetes/client-node';
import type { KubeConfig as KubeConfigClass } from '@kubernetes/client-node';

const CONFIG_MODULE = '/@kubernetes/client-node/dist/config.js';
const GENERATED_INDEX = './gen/index.js';
// The sibling with this module's own extension: .js when built, .ts when tests run the sources.
const EXTENSION = import.meta.url.slice(import.meta.url.lastIndexOf('.'));
const SLIM_INDEX = new URL(`./client-node-gen-slim${EXTENSION}`, import.meta.url).href;
const UNDICI = 'undici';
const UNDICI_IMPORTERS = [
  '/@kubernetes/client-node/dist/config.js',
  '/@kubernetes/client-node/dist/gen/http/isomorphic-fetch.js',
];
const LEAN_UNDICI = new URL(`../net/undici${EXTENSION}`, import.meta.url).href;
/** The config module's imports of auth providers and proxy agents, loaded on use instead. */
const ON_USE_IMPORTS = new Set([
  './azure_auth.js',
  './gcp_auth.js',
  './oidc_auth.js',
  'socks-proxy-agent',
  'socks',
  'hpagent',
]);
const ON_USE = new URL(`./client-node-on-use${EXTENSION}`, import.meta.url).href;

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier === GENERATED_INDEX && context.parentURL?.endsWith(CONFIG_MODULE) === true)
      return { url: SLIM_INDEX, format: 'module', shortCircuit: true };
    if (ON_USE_IMPORTS.has(specifier) && context.parentURL?.endsWith(CONFIG_MODULE) === true)
      return { url: ON_USE, shortCircuit: true };
    if (
      specifier === UNDICI &&
      UNDICI_IMPORTERS.some((importer) => context.parentURL?.endsWith(importer) === true)
    )
      // No format: .ts (tests running the sources) needs Node's type stripping, .js does not.
      return { url: LEAN_UNDICI, shortCircuit: true };
    return nextResolve(specifier, context);
  },
});

const configModule = (await import('@kubernetes/client-node/dist/config.js')) as typeof ClientNode;

export const KubeConfig: typeof KubeConfigClass = configModule.KubeConfig;
export type KubeConfig = KubeConfigClass;
