import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../config/types.ts';
import { targetKey, targetOf } from '../../destination/target.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { noteLoss, readLossMark } from '../../preload/loss-report.ts';
import { holdHere, markAlive, ownerGone, releaseHere, removeMark, STALE_MS, touchMark } from './spool-marks.ts';

/**
 * Where a program's processes leave spans the receiver could not take from them: the last ones of a
 * process that exits at once (`process.exit()` in the middle of the coalescing window, an uncaught
 * exception), batches the receiver kept turning away, and everything a program sends after the
 * tool itself was killed (SIGKILL, the OOM killer): the program lives on without it. OTLP protobuf
 * request bodies, a file each, named `.otlp` once whole; sent to the receiver like any other request
 * while the program runs and after it ended.
 *
 * Each run has a directory of its own in each of the spool's roots, named for the settings that decide
 * where its traces go; the program writes to the first that takes the file (beside the store, else
 * the system's temporary directory, on another disk when the store's is full). A run whose directory
 * is left with files (its tool killed, or its store full at the end) is taken over by the next run
 * with the same settings, which sends them on: a run with other settings would send them elsewhere.
 */
export interface Spool {
  /** This run's directories, in the order the program tries them. */
  dirs: string[];
  /**
   * Sends the whole files to the receiver at `tracesUrl`, each removed once the receiver took it; a
   * refusal ends this round and leaves the rest for the next. Takes over what runs with these settings
   * left behind, and sends theirs too. Resolves with how many files are left, its own and those.
   */
  drain(receiver: SpoolReceiver): Promise<number>;
  /**
   * Removes the directories unless whole files are left in them (half-written ones are of no use), and
   * lets go of those taken over; says what is left where, and what was taken over.
   */
  close(): Promise<SpoolEnd>;
}

/** Where the spool's files go: the tool's own OTLP receiver, with the credential it asks for, if any. */
export interface SpoolReceiver {
  tracesUrl: string;
  headers?: Record<string, string>;
}

export interface SpoolEnd {
  /** Files the receiver did not take, this run's and those it took over, and the directories they are in. */
  left: number;
  leftIn: string[];
  /** Files of earlier runs with these settings that were sent on. */
  adopted: number;
  /** Files of earlier runs that were stopped with other settings, which wait for a run with those, and where. */
  othersLeft: number;
  othersIn: string[];
  /** Batches the program's processes could keep nowhere, by sender, as their marks told (see lossMarkName). */
  lost: Map<string, number>;
}

/** An owner touches its mark this often (see ownerGone). */
const ALIVE_TOUCH_MS = 2_000;
/** The receiver answers once the spans are stored; one that does not answer at all must not hold the run's end. */
const ANSWER_WITHIN_MS = 30_000;
/** `<settings>-<random>`; a name starting with a dot is one being made, never taken over. */
const RUN_DIR = /^([0-9a-f]{16})-[0-9a-f]{12}$/;

/** Beside the store, and where the program can still leave its spans when the store's disk is full. */
export function spoolRoots(storeDir: string): string[] {
  return [join(storeDir, 'spool'), join(tmpdir(), `otel-mlflow-spool-${process.getuid?.() ?? 'user'}`)];
}

/**
 * A digest of what decides where and how a run's traces are kept: the store, the destination (server,
 * experiment, run), the experiments services are routed to, and whether content is kept (`captureContent`:
 * what the command's receiver does, which the relay's own decides apart from the configuration). Runs
 * with equal digests would have stored the same spans the same way.
 */
export function spoolSettings(config: ResolvedConfig, captureContent: boolean): string {
  const target = targetOf(config);
  const services = Object.entries(config.relayExperiments.value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const settings = JSON.stringify([config.storeDir.value, target ? targetKey(target) : null, services, captureContent]);
  return createHash('sha256').update(settings).digest('hex').slice(0, 16);
}

/**
 * `roots`: where the program may leave files, in order; the first must take this run's directory, the
 * others are tried as they can. `settings`: a digest of what decides where traces go (see
 * spoolSettings); runs with equal ones take over each other's files. `now`: the wall clock, which file
 * times are read against; a test's own in tests.
 */
export async function createSpool(roots: readonly string[], settings: string, now: () => number = Date.now): Promise<Spool> {
  const name = runDirName(settings);
  const dirs: string[] = [];
  const usable: string[] = [];
  for (const [index, root] of roots.entries()) {
    const made = await makeRunDir(root, name).catch((error: unknown) => {
      if (index === 0) throw error;
      return undefined;
    });
    if (!made) continue;
    dirs.push(made);
    usable.push(root);
  }
  return openSpool(usable, settings, dirs, now);
}

/**
 * A spool with no directory of its own, for a command that runs no program (`relay`, `traces push`):
 * it takes in what runs with these settings left. A root that is not this user's alone is passed over.
 */
export async function adoptSpool(roots: readonly string[], settings: string, now: () => number = Date.now): Promise<Spool> {
  const usable: string[] = [];
  for (const root of roots) if (await isOwnRoot(root)) usable.push(root);
  return openSpool(usable, settings, [], now);
}

/** `roots`: only those that are this user's alone, where files of others' making cannot be. */
function openSpool(roots: readonly string[], settings: string, dirs: string[], now: () => number): Spool {
  const held = new Set<string>();
  const lost = new Map<string, number>();
  let adopted = 0;
  let lastTouch = now();
  // One round at a time: a round started meanwhile waits for the running one, then reads the directories again.
  let rounds: Promise<number> = Promise.resolve(0);
  // Also between files: a long round to a slow receiver must not look like a run that is gone.
  const heartbeat = async () => {
    if (now() - lastTouch < ALIVE_TOUCH_MS) return;
    lastTouch = now();
    await Promise.all([...dirs, ...held].map((path) => touchMark(path, lastTouch)));
  };
  const round = async (receiver: SpoolReceiver): Promise<number> => {
    await heartbeat();
    let left = 0;
    for (const dir of dirs) {
      left += (await drainDir(dir, receiver, heartbeat)).left;
      await takeLossMarks(dir, lost);
    }
    for (const root of roots) {
      for (const gone of await goneRuns(root, (theirs) => theirs === settings, now)) {
        const taken = await takeOver(root, gone, settings);
        if (!taken) continue;
        held.add(taken);
        holdHere(taken);
      }
    }
    for (const path of held) {
      const { sent, left: theirs } = await drainDir(path, receiver, heartbeat);
      await takeLossMarks(path, lost);
      adopted += sent;
      left += theirs;
      if (theirs === 0 && (await removeDrained(path, now))) {
        held.delete(path);
        releaseHere(path);
      }
    }
    return left;
  };
  return {
    dirs,
    drain(receiver) {
      rounds = rounds.catch(() => 0).then(() => round(receiver));
      return rounds;
    },
    async close() {
      await rounds.catch(() => undefined);
      let left = 0;
      const leftIn: string[] = [];
      for (const path of [...dirs, ...held]) await takeLossMarks(path, lost);
      for (const dir of dirs) {
        const files = (await wholeFiles(dir)).length;
        if (files === 0) await rm(dir, { recursive: true, force: true });
        else leftIn.push(dir);
        left += files;
      }
      // Taken over and not all taken by the receiver: once this process is gone, the next run takes them over.
      for (const path of held) {
        const files = (await wholeFiles(path)).length;
        if (files === 0) await removeDrained(path, now);
        else leftIn.push(path);
        left += files;
      }
      for (const path of [...dirs, ...held]) releaseHere(path);
      const others = await filesOfGoneRuns(roots, (theirs) => theirs !== settings, now);
      return { left, leftIn, adopted, othersLeft: others.files, othersIn: others.in, lost };
    },
  };
}

/** Made whole under a name no one takes over, then put in place: a directory in place always has its mark. */
async function makeRunDir(root: string, name: string): Promise<string> {
  await mkdir(root, { recursive: true, mode: 0o700 });
  await assertOwnRoot(root);
  const making = join(root, `.new-${randomBytes(6).toString('hex')}`);
  await mkdir(making, { mode: 0o700 });
  await markAlive(making);
  const dir = join(root, name);
  await rename(making, dir);
  holdHere(dir);
  return dir;
}

function runDirName(settings: string): string {
  return `${settings}-${randomBytes(6).toString('hex')}`;
}

/**
 * A root in a directory every user writes to (the system's temporary one) may have been made by
 * someone else, to read the prompts left in it or to swap files: it must be this user's directory,
 * which no one else writes to.
 */
async function assertOwnRoot(root: string): Promise<void> {
  if (!(await isOwnRoot(root))) {
    throw new ExpectedError(`${root} is not a directory of this user's alone: spans waiting there could be read or changed by others`, {
      exitCode: ExitCode.config,
      hint: `make it yours alone (chmod 700 ${root}), or remove it: run makes it again`,
    });
  }
}

async function isOwnRoot(root: string): Promise<boolean> {
  const info = await lstat(root).catch(() => undefined);
  if (!info) return false;
  const uid = process.getuid?.();
  return uid === undefined || (info.isDirectory() && info.uid === uid && (info.mode & 0o022) === 0);
}

/** Directories in `root` of runs that are gone, whose settings `include` takes, by name. */
async function goneRuns(root: string, include: (settings: string) => boolean, now: () => number): Promise<string[]> {
  const gone: string[] = [];
  for (const name of await readdir(root).catch(() => [])) {
    const settings = RUN_DIR.exec(name)?.[1];
    if (settings !== undefined && include(settings) && (await ownerGone(join(root, name), now))) gone.push(name);
  }
  return gone;
}

/**
 * Moves a gone run's directory to a name of this run's and marks it: of two runs taking it over at
 * once, one moves it; the other finds it gone. Undefined when another run was first.
 */
async function takeOver(root: string, name: string, settings: string): Promise<string | undefined> {
  const path = join(root, runDirName(settings));
  try {
    await rename(join(root, name), path);
    await markAlive(path);
    return path;
  } catch {
    return undefined;
  }
}

/** Removes a directory taken over and sent on: its program may still write to it, so only when nothing is in it, and half-written files of the dead only. */
async function removeDrained(dir: string, now: () => number): Promise<boolean> {
  const names = await readdir(dir).catch(() => undefined);
  if (!names) return true;
  for (const name of names) {
    if (!name.endsWith('.part')) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info && now() - info.mtimeMs > STALE_MS) await unlink(join(dir, name)).catch(() => undefined);
  }
  await removeMark(dir);
  try {
    await rmdir(dir);
    return true;
  } catch {
    // A file came meanwhile: held again, and sent next round.
    await markAlive(dir).catch(() => undefined);
    return false;
  }
}

/** Whole files in directories of runs that are gone, whose settings `include` takes, the roots they are in, and how many of each settings. */
async function filesOfGoneRuns(
  roots: readonly string[],
  include: (settings: string) => boolean,
  now: () => number,
): Promise<{ files: number; in: string[]; bySettings: Map<string, number> }> {
  let files = 0;
  const where = new Set<string>();
  const bySettings = new Map<string, number>();
  for (const root of roots) {
    for (const name of await goneRuns(root, include, now)) {
      const count = (await wholeFiles(join(root, name))).length;
      files += count;
      if (count > 0) where.add(root);
      const settings = RUN_DIR.exec(name)![1]!;
      bySettings.set(settings, (bySettings.get(settings) ?? 0) + count);
    }
  }
  return { files, in: [...where], bySettings };
}

/**
 * Batches of spans runs that were stopped left in the spool beside `storeDir` (or its fallback),
 * whatever their settings: what the commands reading the store cannot show, said where it waits;
 * and, of them, those of runs with `settings` (0 when none are given), which a command with those takes in.
 */
export async function leftInSpool(
  storeDir: string,
  settings?: string,
  now: () => number = Date.now,
): Promise<{ files: number; in: string[]; withSettings: number }> {
  const left = await filesOfGoneRuns(spoolRoots(storeDir), () => true, now);
  return { files: left.files, in: left.in, withSettings: settings === undefined ? 0 : (left.bySettings.get(settings) ?? 0) };
}

async function drainDir(dir: string, receiver: SpoolReceiver, heartbeat: () => Promise<void>): Promise<{ sent: number; left: number }> {
  const files = await wholeFiles(dir);
  for (const [index, name] of files.entries()) {
    const path = join(dir, name);
    const body = await readFile(path).catch(() => undefined);
    // Gone meanwhile: the directory was taken over by another run.
    if (!body) return { sent: index, left: 0 };
    const taken = await fetch(receiver.tracesUrl, {
      method: 'POST',
      headers: { ...receiver.headers, 'content-type': 'application/x-protobuf' },
      body,
      signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
    }).then(
      async (response) => {
        await response.arrayBuffer();
        return response.ok;
      },
      () => false,
    );
    // The receiver answers once the spans are in the store: after that, nothing depends on the file.
    if (!taken) return { sent: index, left: files.length - index };
    await rm(path, { force: true });
    await heartbeat();
  }
  return { sent: files.length, left: 0 };
}

/** Reads the loss marks in `dir` into `lost` (each sender's largest count), and removes them: told once, and the directory can go. */
async function takeLossMarks(dir: string, lost: Map<string, number>): Promise<void> {
  for (const name of await readdir(dir).catch(() => [])) {
    const mark = readLossMark(name);
    if (!mark) continue;
    noteLoss(lost, mark.sender, mark.lostBatches);
    await unlink(join(dir, name)).catch(() => undefined);
  }
}

/** The files written whole: a writer renames its file to `.otlp` once it is (half-written ones are of no use). */
async function wholeFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.otlp'));
}
