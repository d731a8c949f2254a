/** Reads package.json files: the framework's own, and the one of a resolved plugin module. */
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageJson {
  readonly name?: string;
  readonly version?: string;
  readonly keywords?: readonly string[];
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

export const FRAMEWORK_PACKAGE_NAME = '@cardano-forge/framework';

export function readPackageJson(file: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/** The framework's package directory (src/plugin and dist/plugin are both two levels below it). */
export function frameworkPackageDir(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

export function frameworkVersion(): string {
  const pkg = readPackageJson(path.join(frameworkPackageDir(), 'package.json'));
  if (!pkg?.version) throw new Error('cannot read the framework version from its package.json');
  return pkg.version;
}

/** Walks up from a resolved module file to the package.json whose name is `packageName`. */
export function findOwningPackageJson(
  resolvedFile: string,
  packageName: string,
): { file: string; pkg: PackageJson } | undefined {
  let dir = path.dirname(resolvedFile);
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = readPackageJson(candidate);
      if (pkg?.name === packageName) return { file: candidate, pkg };
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
