import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
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
  output(): string;
  /** Waits until the output matches (a line printed after start-up), failing after a deadline. */
  waitFor(pattern: RegExp): Promise<void>;
  /** Sends SIGTERM and waits for the process to finish its graceful shutdown. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `otel-mlflow serve --port 0` as a user starts it, in an empty directory and HOME. */
export function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  return startListening(['serve', '--port', '0', ...args], env, /listening on (http:\/\/\S+)/);
}

/** Asks serve's /chat `count` questions, one after another; returns their trace ids. Delivery problems never fail a request. */
export async function chat(serve: Pick<ServeProcess, 'url'>, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${serve.url}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"query":"question ${i}"}` });
    assert.equal(response.status, 200, await response.clone().text());
    ids.push(((await response.json()) as { trace_id: string }).trace_id);
  }
  return ids;
}

/** `otel-mlflow relay` on a free OTLP/HTTP port (gRPC off unless `args` say otherwise); its URL is the OTLP/HTTP base. */
export function startRelayProcess(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  return startListening(['relay', '--port', '0', '--grpc-port', 'off', ...args], env, /OTLP\/HTTP on (http:\/\/[^/\s]+)\/v1\/traces/);
}

/** A long-running command, started as a user starts it in an empty directory and HOME; ready once its output matches `ready` (group 1: its URL). */
export async function startListening(args: string[], env: Record<string, string>, ready: RegExp): Promise<ServeProcess> {
  const command = args[0]!;
  const home = await mkdtemp(join(tmpdir(), `otel-mlflow-${command}-`));
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    cwd: home,
    env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

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
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before listening:\n${stdout}\n${stderr}`));
    });
  }).catch(async (error) => {
    child.kill('SIGKILL');
    await rm(home, { recursive: true, force: true });
    throw error;
  });

  return {
    url,
    output: () => stdout + stderr,
    async waitFor(pattern) {
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!pattern.test(stdout + stderr)) {
        if (Date.now() > deadline) throw new Error(`${command} never printed ${pattern}:\n${stdout}\n${stderr}`);
        await delay(50);
      }
    },
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const code = await exited;
      clearTimeout(timer);
      await rm(home, { recursive: true, force: true });
      return { code, stdout, stderr };
    },
  };
}
