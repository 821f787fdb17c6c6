/**
 * How the person ran otel-mlflow, so every next-step hint can be pasted as printed: `npx otel-mlflow`
 * when npm ran it (in a clone the bare name is not on PATH), else `otel-mlflow` (npm link, a global
 * install). Set once by the CLI before any command runs; library code only reads it.
 */
let invocation = 'otel-mlflow';

/** npm sets npm_command=exec for both `npx` and `npm exec`. */
export function detectInvocation(env: Readonly<Record<string, string | undefined>>): string {
  return env.npm_command === 'exec' ? 'npx otel-mlflow' : 'otel-mlflow';
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
