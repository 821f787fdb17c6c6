import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const APP = fileURLToPath(new URL('./fixtures/genai-app.ts', import.meta.url));

export interface AppRun {
  /** Hex OpenTelemetry trace ids, in the order the app made them. */
  traceIds: string[];
  exports: { succeeded: number; failed: number; errors: string[] };
}

/**
 * The stock-OpenTelemetry app (fixtures/genai-app.ts) in a child process, configured only with the
 * standard variables (and APP_TRACES, default 3; APP_PAUSE_MS).
 */
export async function runApp(env: Record<string, string>): Promise<AppRun> {
  const { stdout } = await run(process.execPath, [APP], {
    env: { PATH: process.env.PATH ?? '', APP_TRACES: '3', ...env },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as AppRun;
}
