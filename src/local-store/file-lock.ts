import { open, rm, stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** A merge takes milliseconds; a lock this old was left by a process that died holding it. */
const STALE_AFTER_MS = 10_000;
const WAIT_LIMIT_MS = 15_000;
const POLL_MS = 5;

/**
 * Runs `work` while holding an exclusive lock file, so two writers (two exports in this process, or
 * `serve` and a client process sharing a trace) cannot both read a trace file and lose each other's spans.
 */
export async function withFileLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    try {
      await (await open(path, 'wx', 0o600)).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStale(path)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${path} stayed locked for ${WAIT_LIMIT_MS / 1000} s`);
    await delay(POLL_MS);
  }
  try {
    return await work();
  } finally {
    await rm(path, { force: true });
  }
}

async function isStale(path: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > STALE_AFTER_MS;
  } catch {
    // Released between our attempt and the stat: try again at once.
    return true;
  }
}
