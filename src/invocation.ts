import { realpathSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How the person ran otel-mlflow, so every next-step hint can be pasted as printed: `npx otel-mlflow`
 * where npm finds the package by that name (in the clone, or installed in the project), `npx <path>`
 * when npm ran a clone by its path from elsewhere (there the name would send npm to the registry),
 * else `otel-mlflow` (npm link, a global install). Set once by the CLI before any command runs;
 * library code only reads it.
 */
let invocation = 'otel-mlflow';

/** This package's directory, symlinks resolved (npx links a directory it is given). */
const PACKAGE_ROOT = realpathSync(fileURLToPath(new URL('..', import.meta.url)));

/** npm sets npm_command=exec for both `npx` and `npm exec`, and npm_package_json to the project it ran in. */
export function detectInvocation(env: Readonly<Record<string, string | undefined>>, packageRoot = PACKAGE_ROOT): string {
  if (env.npm_command !== 'exec') return 'otel-mlflow';
  const root = packageRoot.replace(/[\\/]+$/, '');
  const installed = root.split(sep).includes('node_modules');
  const inTheClone = env.npm_package_json !== undefined && dirname(env.npm_package_json) === root;
  if (installed || inTheClone) return 'npx otel-mlflow';
  return `npx ${/[\s'"$`\\]/.test(root) ? `'${root.replace(/'/g, `'\\''`)}'` : root}`;
}

export function setInvocation(value: string): void {
  invocation = value;
}

/** The store a `traces …` hint must name: one given by --store-dir, or a running server's own. */
let storeDir: string | undefined;

export function setStoreDir(dir: string | undefined): void {
  storeDir = dir;
}

/**
 * `commandLine('traces list')` → `npx otel-mlflow traces list`, as the person would type it; a
 * `traces` command repeats the store it must read (without it, it would read the default store).
 */
export function commandLine(args: string): string {
  const store = storeDir !== undefined && args.startsWith('traces ') ? ` --store-dir ${shellWord(storeDir)}` : '';
  return `${invocation} ${args}${store}`;
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
