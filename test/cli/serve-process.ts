import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/otel-mlflow.js', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 30_000;

export interface ServeProcess {
  url: string;
  /** The process started: the command's own, or, where the launcher re-runs it under the pinned Node, the launcher's. */
  pid: number;
  output(): string;
  /** Waits until the output matches (a line printed after start-up), failing after a deadline. */
  waitFor(pattern: RegExp): Promise<void>;
  /**
   * Sends SIGTERM (or `signal`) and waits for the process to finish its graceful shutdown, and for
   * every process it started that holds its output (the command under the launcher) to end too;
   * `forced` when they had not ended in time and were killed.
   */
  stop(
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; forced: boolean; stdout: string; stderr: string }>;
}

/** `otel-mlflow serve --port 0` as a user starts it, in an empty directory and HOME; `node` is what runs the bin. */
export function startServe(
  args: string[],
  env: Record<string, string> = {},
  node: readonly string[] = [process.execPath],
): Promise<ServeProcess> {
  return startListening(['serve', '--port', '0', ...args], env, /listening on (http:\/\/\S+)/, { node });
}

/** Asks serve's /chat `count` questions, one after another; returns their trace ids. Delivery problems never fail a request. */
export async function chat(serve: Pick<ServeProcess, 'url'>, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${serve.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"query":"question ${i}"}`,
    });
    assert.equal(response.status, 200, await response.clone().text());
    ids.push(((await response.json()) as { trace_id: string }).trace_id);
  }
  return ids;
}

/** `otel-mlflow relay` on a free OTLP/HTTP port (gRPC off unless `args` say otherwise); its URL is the OTLP/HTTP base. */
export function startRelayProcess(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  return startListening(['relay', '--port', '0', '--grpc-port', 'off', ...args], env, /OTLP\/HTTP on (http:\/\/[^/\s]+)\/v1\/traces/);
}

export interface StartOptions {
  /** What runs the bin. */
  node?: readonly string[];
  /** Where it starts: an empty directory unless named. */
  cwd?: string;
  /** Started as a terminal's job: a process group of its own, which `stop` signals whole, as a terminal's Ctrl-C does. */
  terminal?: boolean;
}

/** A long-running command, started as a user starts it in an empty HOME (and directory, unless `cwd` names one); ready once its output matches `ready` (group 1: its URL). */
export async function startListening(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  { node = [process.execPath], cwd, terminal = false }: StartOptions = {},
): Promise<ServeProcess> {
  const command = args[0]!;
  const home = await mkdtemp(join(tmpdir(), `otel-mlflow-${command}-`));
  const child: ChildProcess = spawn(node[0]!, [...node.slice(1), BIN, ...args], {
    cwd: cwd ?? home,
    // A terminal's job: a process group of its own, which the terminal's Ctrl-C reaches whole.
    detached: terminal,
    env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} did not start in time:\n${stdout}\n${stderr}`)), START_TIMEOUT_MS);
    const check = () => {
      const match = ready.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before listening:\n${stdout}\n${stderr}`));
    });
  }).catch(async (error) => {
    killAll([child.pid!, ...descendantsOf(child.pid!)]);
    await rm(home, { recursive: true, force: true });
    throw error;
  });

  return {
    url,
    pid: child.pid!,
    output: () => stdout + stderr,
    async waitFor(pattern) {
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!pattern.test(stdout + stderr)) {
        if (Date.now() > deadline) throw new Error(`${command} never printed ${pattern}:\n${stdout}\n${stderr}`);
        await delay(50);
      }
    },
    async stop(signal = 'SIGTERM') {
      // Read first: once the process is gone, so is the record of what it started.
      const started = descendantsOf(child.pid!);
      if (terminal) process.kill(-child.pid!, signal);
      else child.kill(signal);
      let forced = false;
      const timer = setTimeout(() => {
        forced = true;
        killAll([child.pid!, ...started]);
      }, STOP_TIMEOUT_MS);
      const { code, signal: endedBy } = await exited;
      clearTimeout(timer);
      await rm(home, { recursive: true, force: true });
      return { code, signal: endedBy, forced, stdout, stderr };
    },
  };
}

/**
 * The processes `pid` started (Linux), and those they started, e.g. the command the launcher re-ran
 * under the pinned Node, and the program `run` runs, which must not outlive a test holding its output.
 */
function descendantsOf(pid: number): number[] {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendantsOf(child)]);
}

/** So that a command stuck under the launcher cannot outlive its test, holding the output open. */
function killAll(pids: number[]): void {
  for (const each of pids) {
    try {
      process.kill(each, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}
