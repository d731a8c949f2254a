/**
 * What @kubernetes/client-node's config module needs from its generated code, without the
 * generated models (see kubeconfig.ts).
 */
export { createConfiguration } from '@kubernetes/client-node/dist/gen/configuration.js';
export { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
