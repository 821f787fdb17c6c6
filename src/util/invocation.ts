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

/** `commandLine('traces list')` → `npx otel-mlflow traces list`, as the person would type it. */
export function commandLine(args: string): string {
  return `${invocation} ${args}`;
}
