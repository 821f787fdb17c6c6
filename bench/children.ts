import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The CLI as users run it: the built dist/ behind bin/. */
export const BIN = fileURLToPath(new URL('../bin/otel-mlflow.js', import.meta.url));

const running = new Set<ChildProcess>();

// A bench that fails half-way must not leave servers behind: whatever is still running dies with it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130));
}

export interface StartedChild {
  child: ChildProcess;
  /** The match of `ready` in its stdout, with its groups. */
  ready: RegExpExecArray;
  /** Everything the child wrote to stderr so far, for error messages. */
  stderr(): string;
  /** SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `node args…` and waits until its output matches `ready`. Its stdout goes to a file, not a
 * pipe: a pipe to this busy process fills up and would stall the child on every log line it writes
 * (serve logs each request), which is not what a server pays in production.
 */
export async function startNode(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; ready: RegExp; timeoutMs?: number },
): Promise<StartedChild> {
  const logDir = mkdtempSync(join(tmpdir(), 'otel-mlflow-bench-log-'));
  const logFile = join(logDir, 'stdout');
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const stop = async (graceMs = 5000) => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    rmSync(logDir, { recursive: true, force: true });
  };
  try {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = options.ready.exec(readFileSync(logFile, 'utf8'));
      if (match) return { child, ready: match, stderr: () => stderr, stop };
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before it was ready: ${stderr.trim()}`);
      }
      if (Date.now() > deadline) throw new Error(`${args.join(' ')} was not ready after ${timeoutMs} ms: ${stderr.trim()}`);
      await sleep(50);
    }
  } catch (error) {
    await stop(0);
    throw error;
  }
}

/** Runs `node args…` to the end and returns its stdout; fails with its stderr when it fails. */
export async function runNode(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<string> {
  const child = spawn(process.execPath, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  running.delete(child);
  if (code !== 0) throw new Error(`${args.join(' ')} exited (${code ?? signal}): ${stderr.trim()}`);
  return stdout;
}

/** An environment with nothing of the caller's configuration in it: no MLflow, OpenAI or OTel settings leak into a bench. */
export function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'LANG', 'TZ']) if (process.env[name] !== undefined) env[name] = process.env[name];
  return { ...env, NO_COLOR: '1', ...extra };
}
