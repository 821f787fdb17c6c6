import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { getOrInsert } from '../util/get-or-insert.ts';

/**
 * Module resolution hooks (for `module.register` on Node 20–22.14, `module.registerHooks` after):
 * an instrumentation of the tool's that imports a package the program uses (`openai`) gets the
 * program's own copy of it, in the program's module format — the very classes the program's
 * objects are instances of — rather than the copy beside the tool.
 *
 * With `module.registerHooks` the hooks also see the program's own resolutions, and each copy of a
 * package the program loads is told to `initialize`'s listener as the program resolves it, before
 * the program loads it. The first copy is the one the tool's own imports get from then on: the
 * program's, in the format it loads it. A program may load a package a second time: its other
 * build (an ES module program whose CommonJS library `require`s `openai`), or another copy
 * elsewhere in node_modules. Each such copy is told under a tag of its own, and the tool's modules
 * imported with `?copy=<tag>` (and everything they import from the tool) are separate instances
 * that get that copy.
 */

export interface RedirectData {
  /** file URL of the tool's compiled sources: imports from there are the ones redirected. */
  fromUrl: string;
  packages: readonly PackageRedirect[];
}

interface PackageRedirect {
  name: string;
  /** Other copies the program loads are instrumented too: the patch imports the package's main entry, by which they are told apart. */
  followCopies: boolean;
  /** Where the program imports it from (its main module): resolution starts there. */
  parentURL: string;
  /** The program loads it with `require()`: its CommonJS build, the one in require's cache. */
  commonJs: boolean;
}

/** A copy of a package the program loads: the tool's modules tagged `tag` resolve the package to it, untagged ones to the first. */
export interface PackageCopy {
  name: string;
  /** None for the first copy. */
  tag: string | undefined;
  /** The file the program's resolution led to: the package's entry, or for the first copy any of its files. */
  url: string;
  commonJs: boolean;
}

/** The query parameter that tags the tool's modules of a copy. */
export const COPY_PARAMETER = 'copy';

let redirects: RedirectData = { fromUrl: '\0', packages: [] };
/** The hooks are resolving a package as `require` would, for the tool: not a resolution of the program's. */
let resolvingAsRequired = false;
let onCopy: ((copy: PackageCopy) => void) | undefined;
/** The entries of each package that are instrumented or about to be. */
const instrumentedEntries = new Map<string, Set<string>>();
/** By package: where the program first resolved it, and in which format; the tool's untagged imports of it get that copy. */
const firstCopies = new Map<string, Pick<PackageRedirect, 'parentURL' | 'commonJs'>>();
/** The copies besides the first, by tag. */
const copies = new Map<string, PackageCopy & { tag: string }>();

/**
 * `module.register`'s entry; called directly before `module.registerHooks`, with the listener that
 * instruments the copies the program loads (the hooks then run in the program's thread, so what
 * `next` returns is the resolution itself, and the listener runs before the program loads the copy).
 */
export function initialize(data: RedirectData, copyListener?: (copy: PackageCopy) => void): void {
  redirects = data;
  onCopy = copyListener;
  for (const noted of [instrumentedEntries, firstCopies, copies]) noted.clear();
}

interface ResolveContext {
  parentURL?: string | undefined;
  /** An array, but in a CommonJS resolution on Node 22.15–22.19 and 24.0–24.7 a Set (Node's own, which is no `instanceof Set`). */
  conditions?: Iterable<string>;
}

type Resolution = { url: string };

/** Node's resolve hook, synchronous or not: whatever `next` returns is returned. */
export function resolve<T>(specifier: string, context: ResolveContext, next: (specifier: string, context: ResolveContext) => T): T {
  if (resolvingAsRequired) return next(specifier, context);
  const parent = context.parentURL;
  // The telemetry wrapper's own import of the package: the copy its URL names, whichever the program resolved.
  const wrapped = specifier === AI && parent?.startsWith(TELEMETRY_ON.href) && new URL(parent).searchParams.get(TARGET_PARAMETER);
  if (wrapped) return { url: wrapped, shortCircuit: true } as T;
  const target = redirects.packages.find(({ name }) => specifier === name || specifier.startsWith(`${name}/`));
  if (!parent?.startsWith(redirects.fromUrl)) {
    const resolved = next(specifier, context);
    // By where it led, not by the name asked for: a bundler's alias (Next.js's `openai-<hash>`) leads to the same files.
    if (onCopy) noteIfCopy((resolved as Resolution).url, context);
    if (specifier !== AI) return resolved;
    // module.register's hooks (Node before 22.15) resolve asynchronously.
    return (
      resolved instanceof Promise
        ? resolved.then((found: Resolution) => withTelemetryOn(found, context))
        : withTelemetryOn(resolved as Resolution, context)
    ) as T;
  }
  const copy = copies.get(new URL(parent).searchParams.get(COPY_PARAMETER) ?? '');
  if (copy) return resolveForCopy(copy, specifier, target, context, next);
  if (!target) return next(specifier, context);
  const { parentURL, commonJs } = firstCopies.get(target.name) ?? target;
  const resolved = commonJs ? resolveAsRequired<T>(specifier, parentURL) : next(specifier, { ...context, parentURL });
  if (onCopy && specifier === target.name) getOrAdd(target.name).add((resolved as Resolution).url);
  return resolved;
}

/**
 * The file `require(specifier)` loads from `parentURL`: its CommonJS build, the one in require's cache.
 * Not `next` with require's conditions: Node 22.15–22.19 and 24.0–24.7 ignore the conditions given
 * to an import's resolution, and the tool would get the ES module build, other classes than the program's.
 */
function resolveAsRequired<T>(specifier: string, parentURL: string): T {
  resolvingAsRequired = true;
  try {
    return { url: pathToFileURL(createRequire(parentURL).resolve(specifier)).href, shortCircuit: true } as T;
  } finally {
    resolvingAsRequired = false;
  }
}

function isRequire({ conditions }: ResolveContext): boolean {
  return conditions !== undefined && [...conditions].includes('require');
}

const AI = 'ai';
/** What a program importing `ai` 6 or earlier gets instead, the package's own entry in its query. */
const TELEMETRY_ON = new URL('./ai-telemetry-on.js', import.meta.url);
/** What a program requiring it gets: require() drops a query, so only for the first copy, required, which the tool's own imports get. */
const TELEMETRY_ON_REQUIRED = new URL('./ai-telemetry-on-required.js', import.meta.url);
const TARGET_PARAMETER = 'target';
/** By package folder: whether its `ai` takes telemetry per call only (6 and earlier). */
const telemetryPerCall = new Map<string, boolean>();

/**
 * The program's `ai`, where it is 6 or earlier: its entry wrapped in a module that switches every
 * call's telemetry on (see ai-with-telemetry.ts). A `require()` gets it only where Node can require
 * an ES module, and only when the program's first copy is the one it requires (not one an `import`
 * loaded first); otherwise the package is left as it is.
 */
function withTelemetryOn<R extends Resolution>(resolved: R, context: ResolveContext): R {
  const root = packageRoot(resolved.url, AI);
  if (root === undefined) return resolved;
  if (!getOrInsert(telemetryPerCall, root, () => majorVersion(root) <= 6)) return resolved;
  if (isRequire(context)) {
    const requirable = (process.features as { require_module?: boolean }).require_module === true;
    const first = firstCopies.get(AI);
    if (!requirable || !first?.commonJs || !first.parentURL.startsWith(root)) return resolved;
    return { ...resolved, url: TELEMETRY_ON_REQUIRED.href, format: 'module', shortCircuit: true };
  }
  const url = new URL(TELEMETRY_ON);
  url.searchParams.set(TARGET_PARAMETER, resolved.url);
  return { ...resolved, url: url.href, format: 'module', shortCircuit: true };
}

/** The package's major version, from its package.json; infinity when it cannot be read, so that nothing is done to it. */
function majorVersion(root: string): number {
  try {
    const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version?: unknown };
    const major = typeof version === 'string' ? Number.parseInt(version, 10) : Number.NaN;
    return Number.isNaN(major) ? Number.POSITIVE_INFINITY : major;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** The tool's modules of one copy: the package from that copy, the tool's own modules as instances of that copy. */
function resolveForCopy<T>(
  copy: PackageCopy & { tag: string },
  specifier: string,
  target: PackageRedirect | undefined,
  context: ResolveContext,
  next: (specifier: string, context: ResolveContext) => T,
): T {
  if (target?.name === copy.name) {
    return copy.commonJs ? resolveAsRequired(specifier, copy.url) : next(specifier, { ...context, parentURL: copy.url });
  }
  const resolved = next(specifier, context);
  const { url } = resolved as Resolution;
  if (!url.startsWith(redirects.fromUrl)) return resolved;
  const tagged = new URL(url);
  tagged.searchParams.set(COPY_PARAMETER, copy.tag);
  return { ...resolved, url: tagged.href };
}

/**
 * The program resolved a file: the first of an instrumented package's files is its first copy, and
 * later an entry of the package that is not instrumented yet another copy, each told to the listener.
 */
function noteIfCopy(url: string, context: ResolveContext): void {
  if (!url.includes('/node_modules/')) return;
  for (const { name, followCopies } of redirects.packages) {
    const root = packageRoot(url, name);
    if (root === undefined) continue;
    const file = url.slice(root.length);
    if (!firstCopies.has(name)) {
      // A package of the package's own node_modules is not the package.
      if (file.includes('node_modules/')) continue;
      // Read here, not for every resolution of the program's: reading the conditions copies them.
      const commonJs = isRequire(context);
      firstCopies.set(name, { parentURL: url, commonJs });
      onCopy?.({ name, tag: undefined, url, commonJs });
    } else if (followCopies && getOrInsert(entryFiles, root, () => readEntryFiles(root)).has(`./${file}`)) {
      noteEntry(name, url, isRequire(context));
    }
  }
}

/** The folder (a file URL ending in `/`) of the package `name` that `url` lies in, innermost; undefined when in none. */
function packageRoot(url: string, name: string): string | undefined {
  const folder = `/node_modules/${name}/`;
  const at = url.lastIndexOf(folder);
  return at < 0 ? undefined : url.slice(0, at + folder.length);
}

/** Per package folder (a file URL): the files its main entry resolves to under any condition, as `./…`. */
const entryFiles = new Map<string, Set<string>>();

/** From `exports['.']` (every condition's file but type declarations), else `main`; none when unreadable. */
function readEntryFiles(root: string): Set<string> {
  const files = new Set<string>();
  try {
    const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports?: unknown; main?: unknown };
    const { exports } = manifest;
    // `exports` is either the main entry's conditions or a map of subpaths, the main one being '.'.
    const subpaths = typeof exports === 'object' && exports !== null && Object.keys(exports).some((key) => key.startsWith('.'));
    collectFiles(exports === undefined ? manifest.main : subpaths ? (exports as Record<string, unknown>)['.'] : exports, files);
  } catch {
    // Not a package this can read: nothing of it is taken for another copy.
  }
  return files;
}

function collectFiles(target: unknown, files: Set<string>): void {
  if (typeof target === 'string') {
    if (/\.[cm]?js$/.test(target)) files.add(target.startsWith('./') ? target : `./${target}`);
  } else if (typeof target === 'object' && target !== null) {
    for (const value of Object.values(target)) collectFiles(value, files);
  }
}

function noteEntry(name: string, url: string, commonJs: boolean): void {
  const entries = getOrAdd(name);
  if (entries.has(url)) return;
  entries.add(url);
  const copy = { name, tag: String(copies.size + 1), url, commonJs };
  copies.set(copy.tag, copy);
  onCopy?.(copy);
}

function getOrAdd(name: string): Set<string> {
  return getOrInsert(instrumentedEntries, name, () => new Set<string>());
}
