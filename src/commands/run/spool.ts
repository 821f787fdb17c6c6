import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where a program's processes leave spans the receiver could not take from them: the last ones of a
 * process that exits at once (`process.exit()` in the middle of the coalescing window, an uncaught
 * exception), and batches the receiver kept turning away. OTLP protobuf request bodies, a file each,
 * named `.otlp` once whole; sent to the receiver like any other request while the program runs and
 * after it ended.
 */
export interface Spool {
  dir: string;
  /**
   * Sends the whole files to the receiver at `tracesUrl`, each removed once the receiver took it; a
   * refusal ends this round and leaves the rest for the next. Resolves with how many files are left.
   */
  drain(tracesUrl: string): Promise<number>;
  /** Removes the directory unless whole files are left in it (half-written ones are of no use); resolves with how many are. */
  close(): Promise<number>;
}

export async function createSpool(): Promise<Spool> {
  const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-run-'));
  // One round at a time: a round started meanwhile waits for the running one, then reads the directory again.
  let rounds: Promise<number> = Promise.resolve(0);
  return {
    dir,
    drain(tracesUrl) {
      rounds = rounds.catch(() => undefined).then(() => drainOnce(dir, tracesUrl));
      return rounds;
    },
    async close() {
      await rounds.catch(() => undefined);
      const left = (await wholeFiles(dir)).length;
      if (left === 0) await rm(dir, { recursive: true, force: true });
      return left;
    },
  };
}

async function drainOnce(dir: string, tracesUrl: string): Promise<number> {
  const files = await wholeFiles(dir);
  for (const [index, name] of files.entries()) {
    const path = join(dir, name);
    const taken = await fetch(tracesUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: await readFile(path),
    }).then(
      async (response) => {
        await response.arrayBuffer();
        return response.ok;
      },
      () => false,
    );
    // The receiver answers once the spans are in the store: after that, nothing depends on the file.
    if (!taken) return files.length - index;
    await rm(path, { force: true });
  }
  return 0;
}

/** The files written whole: a writer renames its file to `.otlp` once it is (half-written ones are of no use). */
async function wholeFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.otlp'));
}
