/** Lists plugin packages visible from the install root, for "unknown plugin" errors. */
import { readdirSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readPackageJson } from './package-info.js';

export const PLUGIN_KEYWORD = 'cardano-forge-plugin';

function packageDirs(nodeModules: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(nodeModules);
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const entry of entries) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) {
      try {
        for (const scoped of readdirSync(path.join(nodeModules, entry)))
          dirs.push(path.join(nodeModules, entry, scoped));
      } catch {
        // unreadable scope directory: nothing to list
      }
    } else dirs.push(path.join(nodeModules, entry));
  }
  return dirs;
}

/** Names of packages (with keyword "cardano-forge-plugin") that `require` from `root` can see. */
export function discoverInstalledPlugins(root: string): string[] {
  const req = createRequire(path.join(root, 'package.json'));
  const lookup = req.resolve.paths('x') ?? [];
  const found = new Set<string>();
  for (const nodeModules of lookup) {
    if (!existsSync(nodeModules)) continue;
    for (const dir of packageDirs(nodeModules)) {
      const pkg = readPackageJson(path.join(dir, 'package.json'));
      if (pkg?.name && Array.isArray(pkg.keywords) && pkg.keywords.includes(PLUGIN_KEYWORD))
        found.add(pkg.name);
    }
  }
  return [...found].sort();
}
