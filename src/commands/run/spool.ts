import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where a program's processes leave the spans they had no time to send when they exit
 * (`process.exit()` in the middle of the coalescing window, an uncaught exception): OTLP protobuf
 * request bodies, one file per exit, handed to the receiver like any other once the program ended.
 */
export interface ExitSpool {
  dir: string;
  /** Sends every body left to the receiver at `tracesUrl`, then removes the directory. */
  drain(tracesUrl: string): Promise<void>;
}

export async function createExitSpool(): Promise<ExitSpool> {
  const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-run-'));
  return {
    dir,
    async drain(tracesUrl) {
      try {
        for (const name of await readdir(dir)) {
          const body = await readFile(join(dir, name));
          // The receiver answers once the spans are in the store: after that, nothing depends on the file.
          await fetch(tracesUrl, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body }).then((response) =>
            response.arrayBuffer(),
          );
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
