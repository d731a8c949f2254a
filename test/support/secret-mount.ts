// A credential directory laid out like a Kubernetes Secret volume, updated the way kubelet's atomic
// writer does it: the files of a generation go into a fresh `..<generation>` directory, a
// `..data_tmp` symlink to it is renamed over `..data`, and the visible names are symlinks through
// `..data`. A reader sees the old set or the new one, never a mix.
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

async function readLinkOrNull(path: string): Promise<string | null> {
  try {
    return await readlink(path);
  } catch {
    return null;
  }
}

/** Publishes `files` (name → content) as the Secret's new generation and removes the previous one. */
export async function writeSecretGeneration(
  dir: string,
  generation: string,
  files: Readonly<Record<string, string>>,
): Promise<void> {
  const generationDir = `..${generation}`;
  await mkdir(join(dir, generationDir), { recursive: true });
  for (const [name, content] of Object.entries(files))
    await writeFile(join(dir, generationDir, name), content);
  const previous = await readLinkOrNull(join(dir, '..data'));
  await rm(join(dir, '..data_tmp'), { force: true });
  await symlink(generationDir, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    const link = join(dir, name);
    if ((await readLinkOrNull(link)) === null) await symlink(join('..data', name), link);
  }
  if (previous !== null && previous !== generationDir)
    await rm(join(dir, previous), { recursive: true, force: true });
}
