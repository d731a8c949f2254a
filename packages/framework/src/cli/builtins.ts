/** The built-in plugins, by the names a config uses for them. */
import type { ForgePlugin } from '../plugin/define.js';
import { filesCredentialsPlugin } from '../plugins/files-credentials/index.js';
import { kubernetesLeasePlugin } from '../plugins/kubernetes-lease/index.js';

export function builtinPlugins(): Record<string, ForgePlugin> {
  return {
    'kubernetes-lease': kubernetesLeasePlugin,
    files: filesCredentialsPlugin,
  };
}
