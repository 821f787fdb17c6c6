import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/otel-mlflow.js', import.meta.url));
/** A hung child must not hang the suite. */
const CLI_TIMEOUT_MS = 60_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Contents of a .env to put in the working directory. */
  dotenv?: string;
  /** What the command reads on standard input (else none: stdin is closed). */
  input?: string;
  /** The running process, for a test that signals it. */
  onStart?: (child: ChildProcess) => void;
}

/**
 * Runs the built binary as a user would, in an empty working directory with an empty HOME, so no
 * .env, config file or ~/.databrickscfg of the developer's leaks into the test.
 */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-home-'));
  const cwd = options.cwd ?? home;
  try {
    if (options.dotenv !== undefined) await writeFile(join(cwd, '.env'), options.dotenv);
    return await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: home, ...options.env },
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        timeout: CLI_TIMEOUT_MS,
      });
      child.stdin?.end(options.input);
      options.onStart?.(child);
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
