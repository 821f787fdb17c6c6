import { readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * Who holds a spool directory: a mark in it, with the owner's process and machine, whose time the
 * owner touches while it runs. A directory whose owner is gone is another run's to take over.
 */

/** A mark of another machine (a container sharing the store) untouched this long is its owner's no more. */
export const STALE_MS = 60_000;
/** The file whose time and content say who holds a directory. */
const ALIVE = '.alive';

/** The directories this process holds: its runs' own and those they took over. */
const heldHere = new Set<string>();

interface Owner {
  pid: number;
  host: string;
}

export function holdHere(dir: string): void {
  heldHere.add(dir);
}

export function releaseHere(dir: string): void {
  heldHere.delete(dir);
}

export async function markAlive(dir: string): Promise<void> {
  const owner: Owner = { pid: process.pid, host: hostname() };
  await writeFile(join(dir, ALIVE), JSON.stringify(owner), { mode: 0o600 });
}

export async function touchMark(dir: string, at: number): Promise<void> {
  const time = new Date(at);
  await utimes(join(dir, ALIVE), time, time).catch(() => undefined);
}

export async function removeMark(dir: string): Promise<void> {
  await unlink(join(dir, ALIVE)).catch(() => undefined);
}

/**
 * Not held by this process, and: no mark (a program whose tool was killed made the directory again to
 * leave its spans), a mark of a process that is not running on this machine, or a mark of another
 * machine untouched for STALE_MS. A process id equal to this one's is an earlier process's (a
 * container's entrypoint is pid 1 every time).
 */
export async function ownerGone(dir: string, now: () => number): Promise<boolean> {
  if (heldHere.has(dir)) return false;
  const mark = join(dir, ALIVE);
  const [info, text] = await Promise.all([stat(mark).catch(() => undefined), readFile(mark, 'utf8').catch(() => undefined)]);
  if (!info || text === undefined) return true;
  const owner = parseOwner(text);
  // On this machine the process itself says: a run busy for a minute (a receiver slow to answer) is not gone.
  if (owner?.host === hostname()) return owner.pid === process.pid || !isRunning(owner.pid);
  return now() - info.mtimeMs > STALE_MS;
}

function parseOwner(text: string): Owner | undefined {
  try {
    const { pid, host } = JSON.parse(text) as Partial<Owner>;
    return typeof pid === 'number' && typeof host === 'string' ? { pid, host } : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: running, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
