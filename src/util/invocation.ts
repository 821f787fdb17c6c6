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
const PACKAGE_ROOT = realpathSync(fileURLToPath(new URL('../..', import.meta.url)));

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

/** `commandLine('traces list')` → `npx otel-mlflow traces list`, as the person would type it. */
export function commandLine(args: string): string {
  return `${invocation} ${args}`;
}
