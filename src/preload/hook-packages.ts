import { existsSync, readFileSync } from 'node:fs';
import module from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InstrumentationSettings } from './instrumentation-settings.ts';
import { PACKAGE_PATCHERS, type PackagePatcher, patchLater, patchNow } from './instrumented-packages.ts';
import { initialize, type PackageCopy, resolve as redirect, type RedirectData } from './package-redirects.ts';

/** The tool's compiled sources: their imports of a program's package are redirected to the program's copy. */
const TOOL_SOURCES = new URL('../', import.meta.url).href;

/**
 * Instruments each package of the table that the program can import (found from its main module):
 * the program's copy, in the format it loads it. With in-thread module hooks (Node 22.15 and on),
 * as the program first resolves it, so a package installed but never loaded costs the program
 * nothing; without them, or beside other module hooks of the program's, before the program's code
 * runs, the copy its main module would load.
 * A package that fails to instrument is left as it is; the program must run either way.
 */
export async function hookPackages(settings: InstrumentationSettings): Promise<void> {
  const main = resolve(process.argv[1] ?? join(process.cwd(), 'index.js'));
  const parentURL = pathToFileURL(main).href;
  const commonJs = isCommonJs(main);
  const patchers = PACKAGE_PATCHERS.filter((patcher) => findPackage(patcher.package, dirname(main)));
  if (patchers.length === 0) return;
  const data: RedirectData = {
    fromUrl: TOOL_SOURCES,
    packages: patchers.map(({ package: name, followCopies }) => ({ name, followCopies, parentURL, commonJs })),
  };
  // registerHooks (Node 22.15 and on) runs in this thread, and register is deprecated there; Node 20 has only register,
  // whose hooks run in a thread of their own. Where the packages are patched up front, only the copy the main module
  // would load is instrumented.
  const { registerHooks } = module as { registerHooks?: (hooks: { resolve: typeof redirect }) => unknown };
  const asResolved = registerHooks !== undefined && !othersHookModules();
  if (registerHooks) {
    initialize(data, asResolved ? (copy) => patchAsResolved(patchers, settings, copy) : undefined);
    registerHooks({ resolve: redirect });
  } else {
    module.register(new URL('./package-redirects.js', import.meta.url), { data });
  }
  if (!asResolved) await Promise.all(patchers.map((patcher) => patchLater(patcher, settings).catch(() => undefined)));
}

/** A copy the program is resolving: patched before the program loads it, or where that cannot be done, right after. */
function patchAsResolved(patchers: readonly PackagePatcher[], settings: InstrumentationSettings, { name, tag }: PackageCopy): void {
  const patcher = patchers.find((candidate) => candidate.package === name)!;
  try {
    if (patchNow(patcher, settings, tag)) return;
  } catch {
    // The patch itself failed: the package is left as it is.
    return;
  }
  // Then right after the program's resolution, which must end first; not on a later turn: a Next.js route loaded by
  // its first request calls the SDK within that turn. A call in the very step that loads the copy goes untraced.
  queueMicrotask(() => void patchLater(patcher, settings, tag).catch(() => undefined));
}

/** What `run` preloads: this folder's preload, as built. */
const OWN_PRELOAD = new URL('./preload.js', import.meta.url).href;
const HOOK_FLAGS = new Set(['--import', '--loader', '--experimental-loader']);

/**
 * Whether the program starts with module hooks besides ours: a TypeScript runner (tsx, ts-node), an
 * instrumentation's `--import`. Under tsx's hooks a package `require()`d inside our resolve hook is
 * another instance than the one the program's import gets, so there every installed SDK is patched
 * before the program starts, through the program's whole chain of hooks, and only its first copy.
 */
function othersHookModules(): boolean {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  for (let i = 0; i < args.length; i++) {
    const at = args[i]!.indexOf('=');
    const flag = at < 0 ? args[i]! : args[i]!.slice(0, at);
    if (!HOOK_FLAGS.has(flag)) continue;
    const value = at < 0 ? args[++i] : args[i]!.slice(at + 1);
    if (value !== OWN_PRELOAD) return true;
  }
  return false;
}

function findPackage(name: string, from: string): boolean {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return true;
    if (dirname(dir) === dir) return false;
  }
}

/** As Node decides a main module's format: by its extension, else by the nearest package.json's `type`. */
function isCommonJs(main: string): boolean {
  const extension = extname(main);
  if (extension === '.cjs' || extension === '.cts') return true;
  if (extension === '.mjs' || extension === '.mts') return false;
  for (let dir = dirname(main); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type !== 'module';
      } catch {
        return true;
      }
    }
    if (dirname(dir) === dir) return true;
  }
}
