/**
 * Stand-ins for what @kubernetes/client-node's config module imports at load but a sidecar seldom
 * uses (see kubeconfig.ts): the Azure, GCP and OIDC auth providers (openid-client, oauth4webapi,
 * jose, jsonpath-plus) and the proxy agents (socks-proxy-agent, socks, hpagent). Together ≈ 0.5 MiB
 * of source the process would otherwise keep in memory for its whole life (bench/notes.md).
 *
 * Each behaves as the library's own: an auth provider answers `isAuthProvider` with the library's
 * check (the provider's name) and loads the real provider on `applyAuthentication`; a proxy agent
 * is the real class, loaded when the first one is built. A kubeconfig that uses none of them loads
 * none of them.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * Resolves as the library's config module would (these are its dependencies, not ours), from a
 * name beside it: from config.js itself, kubeconfig.ts's hook would hand back these stand-ins.
 */
const fromLibrary = createRequire(
  new URL(
    './forge-on-use.js',
    pathToFileURL(createRequire(import.meta.url).resolve('@kubernetes/client-node/dist/config.js')),
  ),
);

interface Authenticator {
  isAuthProvider(user: unknown): boolean;
  applyAuthentication(user: unknown, opts: unknown, ...rest: unknown[]): Promise<void>;
}

type AuthenticatorClass = new () => Authenticator;

/** An auth provider named `provider` in a kubeconfig's `auth-provider`, loaded on first use. */
function authOnUse(file: string, exportName: string, provider: string): AuthenticatorClass {
  return class implements Authenticator {
    #real: Authenticator | undefined;

    isAuthProvider(user: unknown): boolean {
      const authProvider = (user as { authProvider?: { name?: unknown } } | null | undefined)?.authProvider;
      return authProvider !== undefined && authProvider !== null && authProvider.name === provider;
    }

    async applyAuthentication(user: unknown, opts: unknown, ...rest: unknown[]): Promise<void> {
      if (this.#real === undefined) {
        const module = (await import(`@kubernetes/client-node/dist/${file}`)) as Record<
          string,
          AuthenticatorClass
        >;
        const Real = module[exportName];
        if (Real === undefined) throw new Error(`@kubernetes/client-node/dist/${file} has no ${exportName}`);
        this.#real = new Real();
      }
      return this.#real.applyAuthentication(user, opts, ...rest);
    }
  };
}

export const AzureAuth = authOnUse('azure_auth.js', 'AzureAuth', 'azure');
export const GoogleCloudPlatformAuth = authOnUse('gcp_auth.js', 'GoogleCloudPlatformAuth', 'gcp');
export const OpenIDConnectAuth = authOnUse('oidc_auth.js', 'OpenIDConnectAuth', 'oidc');

type AnyClass = new (...args: never[]) => object;

/** A class of `pkg` loaded (synchronously) when the first instance is built. */
function classOnUse(pkg: string, exportName: string): AnyClass {
  return class {
    constructor(...args: unknown[]) {
      const Real = (fromLibrary(pkg) as Record<string, new (...a: unknown[]) => object>)[exportName];
      if (Real === undefined) throw new Error(`${pkg} has no ${exportName}`);
      // A constructor returning an object yields that object: the caller gets the real agent.
      return new Real(...args);
    }
  };
}

export const SocksProxyAgent = classOnUse('socks-proxy-agent', 'SocksProxyAgent');
export const HttpProxyAgent = classOnUse('hpagent', 'HttpProxyAgent');
export const HttpsProxyAgent = classOnUse('hpagent', 'HttpsProxyAgent');

/** The one call the library makes on `SocksClient`. */
export const SocksClient = {
  createConnection: (...args: unknown[]): unknown =>
    (
      fromLibrary('socks') as { SocksClient: { createConnection(...a: unknown[]): unknown } }
    ).SocksClient.createConnection(...args),
};
