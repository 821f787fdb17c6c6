import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { copiesOfLastRequest, countStopRequests, type IsCopy } from '../../cli/stop-requests.ts';
import { ExitCode, ExpectedError, signalExitCode } from '../../errors.ts';

/** Requests to stop, from a terminal, a supervisor or a person. */
const STOPS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
/** Meant for the program's first process (reopen logs, reload), as `kill -USR2 <its pid>` would be. */
const POKES: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGUSR2'];

/**
 * The program runs in a process group of its own (POSIX): a terminal's Ctrl-C reaches the tool's
 * group alone, and the program gets the tool's copy only, once; and the processes the program
 * started can be found, and stopped, when it ends without them. Windows has no process groups.
 */
const OWN_GROUP = process.platform !== 'win32';

/** How often a stopping program's end looks whether all its processes are gone. */
const GROUP_CHECK_MS = 50;

export interface RunProgramOptions {
  /** How long the rest of a stopping program is waited for once its first process has ended. */
  restMs: number;
  /**
   * Watches for a reason of the tool's to stop the program (the wrapper that started the tool went
   * away, and with it whoever would pass a signal on): calls `stop` then, which asks the program as
   * SIGTERM does. Returns what ends the watch.
   */
  stopWhen?: (stop: () => void) => () => void;
  /** Drops the copies of a request to stop; shared with whoever listens for them once the program has ended. */
  isCopy?: IsCopy;
}

export interface ProgramExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Starts the program on this terminal (its stdin, stdout and stderr are ours), passes signals on, and
 * waits for its end.
 *
 * A request to stop goes to the program's first process, which passes it on as it means to (tsx and
 * nodemon to their child, a cluster's primary to its workers). One that ends leaving the others it
 * started running, as npm does on SIGTERM and a shell too (the app `npm start` ran, with no one left
 * to stop it), has the request passed to those, and they are waited for (at most `restMs`): they
 * are finishing their last requests. What a program that simply ended leaves running (a daemon) is
 * meant to outlive it, and is left alone.
 */
export async function runProgram(
  command: readonly string[],
  env: Record<string, string | undefined>,
  cwd: string,
  { restMs, stopWhen, isCopy = copiesOfLastRequest() }: RunProgramOptions,
): Promise<ProgramExit> {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { stdio: 'inherit', env, cwd, detached: OWN_GROUP });
  const passing = passSignalsOn(child, isCopy);
  const stopWatching = stopWhen?.(() => passing.request('SIGTERM')) ?? (() => {});
  const letGo = OWN_GROUP && child.pid !== undefined ? stopWithTool(child.pid, restMs) : () => {};
  try {
    const exit = await new Promise<ProgramExit>((resolve, reject) => {
      child.once('error', (error: NodeJS.ErrnoException) => reject(cannotStart(file, error)));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const stop = passing.stopAsked();
    if (OWN_GROUP && stop && child.pid !== undefined && groupAlive(child.pid)) {
      toGroup(child.pid, stop);
      const deadline = Date.now() + restMs;
      while (groupAlive(child.pid) && Date.now() < deadline) await delay(GROUP_CHECK_MS);
    }
    return exit;
  } finally {
    letGo();
    stopWatching();
    passing.stop();
  }
}

/**
 * What ends the program when the tool's process dies without ending it (SIGKILL, the OOM killer, a
 * crash): in a group and a session of its own, the program is out of reach of what would have ended
 * it with the tool (a terminal's hangup, supervisord's `killasgroup`, `kill -9 -<group>`), and would
 * go on running orphaned, holding its port against the supervisor's restart. A shell started beside
 * it waits for the end of a pipe only the tool holds; when the tool dies, the kernel closes it, and the
 * shell asks the program's group to stop as SIGTERM does, then kills what is left after `graceMs`
 * (the time a stopping program's rest gets). The shell ignores the signals meant for the tool and the
 * program. Returns what lets it go once the program has ended; without /bin/sh, nothing watches.
 */
function stopWithTool(group: number, graceMs: number): () => void {
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'otel-mlflow-watchdog', String(group), String(Math.ceil(graceMs / 1000))], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.on('error', () => {});
  watchdog.stdin!.on('error', () => {});
  // Neither it nor the pipe keeps the tool running.
  watchdog.unref();
  (watchdog.stdin as Socket).unref();
  return () => watchdog.stdin!.end('done\n');
}

/** The watchdog's script: $1 the program's group, $2 the seconds its processes get before SIGKILL. */
const WATCHDOG = `trap '' INT TERM HUP QUIT
read -r word
[ "$word" = done ] && exit 0
kill -s TERM -- "-$1" 2>/dev/null || exit 0
waited=0
while [ "$waited" -lt "$2" ]; do
  sleep 1
  kill -s 0 -- "-$1" 2>/dev/null || exit 0
  waited=$((waited + 1))
done
kill -s KILL -- "-$1" 2>/dev/null`;

/**
 * Whether a process of the group is still running. One that has ended but not been reaped (a
 * zombie) is not: as PID 1 of a container (`docker run` without --init) `run` is handed every orphan,
 * Node reaps only its own children, and the app `npm start` ran stays a zombie once it ends. Where
 * /proc cannot be read (macOS), the group is asked for by signal, zombies included.
 */
function groupAlive(group: number): boolean {
  return groupRunning(group) ?? groupSignalled(group);
}

/** From /proc (Linux); undefined when it cannot be read. */
function groupRunning(group: number): boolean | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // After the command name, which may hold spaces and parentheses: state, parent, process group.
    const [state, , processGroup] = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    if (Number(processGroup) === group && state !== 'Z') return true;
  }
  return false;
}

function groupSignalled(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch (error) {
    // EPERM: a process of the group is there, under another user (it changed its own).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signals every process of the group that is still there. */
function toGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // All of it gone.
  }
}

/**
 * Passes signals on to the program's first process; copies of a request to stop arriving together
 * (the launcher's or npm's, after a terminal's; systemd's SIGTERM to every process) count once, of
 * whichever stop signal. A terminal's suspend (Ctrl-Z), resume and
 * resize reach only its foreground group, which the program is not in: they are passed to all of it.
 * `stopAsked`: the last request to stop passed on, if any.
 */
function passSignalsOn(
  child: ChildProcess,
  isCopy: IsCopy,
): {
  request(signal: NodeJS.Signals): void;
  stop(): void;
  stopAsked(): NodeJS.Signals | undefined;
} {
  let stopAsked: NodeJS.Signals | undefined;
  const toFirst = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const toAll = (signal: NodeJS.Signals) => {
    if (child.pid !== undefined) toGroup(child.pid, signal);
  };
  const request = (signal: NodeJS.Signals) => {
    stopAsked = signal;
    toFirst(signal);
  };
  const listeners: [NodeJS.Signals, (signal: NodeJS.Signals) => void][] = [
    ...STOPS.map((signal): [NodeJS.Signals, (signal: NodeJS.Signals) => void] => [
      signal,
      countStopRequests(() => request(signal), isCopy),
    ]),
    ...POKES.map((signal): [NodeJS.Signals, () => void] => [signal, () => toFirst(signal)]),
  ];
  if (OWN_GROUP) {
    listeners.push(
      [
        'SIGTSTP',
        () => {
          // SIGSTOP, not SIGTSTP: the kernel drops a SIGTSTP that would stop a process group with no
          // parent in its session (the program's, in a session of its own), as it does for an orphan.
          toAll('SIGSTOP');
          // Listening for it took its default away: stop as it would have, until the shell's SIGCONT.
          process.kill(process.pid, 'SIGSTOP');
        },
      ],
      ['SIGCONT', () => toAll('SIGCONT')],
      ['SIGWINCH', () => toAll('SIGWINCH')],
    );
  }
  for (const [signal, listener] of listeners) process.on(signal, listener);
  return {
    request,
    stop() {
      for (const [signal, listener] of listeners) process.removeListener(signal, listener);
    },
    stopAsked: () => stopAsked,
  };
}

function cannotStart(file: string, error: NodeJS.ErrnoException): Error {
  if (error.code === 'ENOENT') {
    return new ExpectedError(`cannot run \`${file}\`: no such program`, {
      exitCode: ExitCode.commandNotFound,
      hint: 'check its spelling, and that it is on PATH or given with its path',
      cause: error,
    });
  }
  if (error.code === 'EACCES') {
    return new ExpectedError(`cannot run \`${file}\`: not executable`, { exitCode: ExitCode.cannotExecute, cause: error });
  }
  return error;
}

/** The program's own exit code; ended by a signal, what a shell reports (128 + its number). */
export function exitCodeOf(exit: Pick<ProgramExit, 'code' | 'signal'>): number {
  if (exit.signal) return signalExitCode(exit.signal);
  return exit.code ?? ExitCode.internal;
}
