import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cp, mkdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A project of the tests' own, made as a user's is: its app files, and packages installed in its node_modules. */

const APPS = fileURLToPath(new URL('./apps/', import.meta.url));
const REPO_MODULES = fileURLToPath(new URL('../../../node_modules/', import.meta.url));

/** The test apps `files` (of test/commands/run/apps), copied into the project `dir`. */
export async function copyApps(dir: string, files: readonly string[]): Promise<void> {
  await Promise.all(files.map((file) => cp(join(APPS, file), join(dir, file))));
}

/**
 * Installs the repository's `installed` package (an npm alias, `openai-v4` for openai 4, or a package
 * as it is) into a project's node_modules as `name`, as npm installs it for a project of its own:
 * copied under its own name, since the tool knows a package by its folder and the program's classes
 * must be its own, with what it and the packages in its own node_modules depend on (peers too)
 * linked from the repository's node_modules as they are. Type packages are left out, and so is any the
 * repository does not have: only optional peers are missing there (openai's for Bedrock), which the
 * tests never load. A package installed already stays: install the program's own copy of a
 * dependency first.
 */
export async function installCopy(modules: string, installed: string, name = installed): Promise<void> {
  const source = join(REPO_MODULES, installed);
  const target = join(modules, name);
  await mkdir(dirname(target), { recursive: true });
  await cp(source, target, { recursive: true });
  const bundled = new Set(packagesIn(join(source, 'node_modules')));
  const needed = [source, ...[...bundled].map((nested) => join(source, 'node_modules', nested))].flatMap((dir) => {
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: object; peerDependencies?: object };
    return Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
  });
  for (const dependency of new Set(needed)) {
    if (bundled.has(dependency) || dependency.startsWith('@types/') || existsSync(join(modules, dependency))) continue;
    if (!existsSync(join(REPO_MODULES, dependency))) continue;
    await mkdir(dirname(join(modules, dependency)), { recursive: true });
    await symlink(join(REPO_MODULES, dependency), join(modules, dependency));
  }
}

/** The packages directly in a node_modules folder, scoped ones as `@scope/name`. */
function packagesIn(modules: string): string[] {
  if (!existsSync(modules)) return [];
  return readdirSync(modules)
    .filter((entry) => !entry.startsWith('.'))
    .flatMap((entry) => (entry.startsWith('@') ? readdirSync(join(modules, entry)).map((scoped) => `${entry}/${scoped}`) : [entry]));
}
