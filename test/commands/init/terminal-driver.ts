import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** How long a prompt may take to appear before the test fails with what the screen showed. */
const WAIT_MS = 10_000;
const POLL_MS = 100;
const COLUMNS = 100;
const ROWS = 40;

export type Key = 'Enter' | 'Up' | 'Down' | 'CtrlC';

/** A command running in a real terminal, typed at as a person would. */
export interface Terminal {
  readonly driver: 'tmux' | 'python-pty';
  /** Waits until the screen shows `text`, and answers the screen. */
  waitFor(text: string | RegExp): Promise<string>;
  type(text: string): Promise<void>;
  press(key: Key): Promise<void>;
  close(): Promise<void>;
}

export interface TerminalCommand {
  argv: string[];
  cwd: string;
  /** The whole environment of the command: nothing of the test's own leaks in. */
  env: Record<string, string>;
}

export type TerminalDriver = 'tmux' | 'python-pty';

/** tmux where there is one; else a pty from Python's standard library, which machines of this kind have. */
export function availableDrivers(): TerminalDriver[] {
  const found = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore' }).status === 0;
  return [
    ...(found(['tmux', '-V']) ? (['tmux'] as const) : []),
    ...(found(['python3', '-c', 'import pty']) ? (['python-pty'] as const) : []),
  ];
}

/** The command, then a line with its exit status, so a test can wait for the end like for any prompt. */
async function launcher(command: TerminalCommand): Promise<{ dir: string; script: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-terminal-'));
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const env = Object.entries(command.env).map(([name, value]) => `${name}=${quote(value)}`);
  const script = join(dir, 'run.sh');
  // Ctrl-C goes to the whole foreground group: the shell traps it (the command still gets it) so it lives to report.
  await writeFile(
    script,
    `trap : INT\ncd ${quote(command.cwd)}\nenv -i ${env.join(' ')} ${command.argv.map(quote).join(' ')}\necho "[exited with status $?]"\n`,
  );
  return { dir, script };
}

export async function startTerminal(driver: TerminalDriver, command: TerminalCommand): Promise<Terminal> {
  const { dir, script } = await launcher(command);
  return driver === 'tmux' ? startTmux(dir, script) : startPythonPty(dir, script);
}

async function poll(read: () => Promise<string> | string, text: string | RegExp): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  let screen = await read();
  while (!(typeof text === 'string' ? screen.includes(text) : text.test(screen))) {
    if (Date.now() > deadline)
      throw new Error(`the terminal did not show ${String(text)} within ${WAIT_MS / 1000} s; it shows:\n${screen}`);
    await delay(POLL_MS);
    screen = await read();
  }
  return screen;
}

async function startTmux(dir: string, script: string): Promise<Terminal> {
  // A server of its own: the developer's tmux sessions and settings stay out of it.
  const socket = `otel-mlflow-test-${randomBytes(4).toString('hex')}`;
  const conf = join(dir, 'tmux.conf');
  // The pane stays after the command ends, so its last screen can still be read.
  await writeFile(conf, 'set -g remain-on-exit on\n');
  const tmux = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile('tmux', ['-L', socket, '-f', conf, ...args], { env: { PATH: process.env.PATH ?? '', SHELL: '/bin/sh' } }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
    });
  await tmux('new-session', '-d', '-s', 'init', '-x', String(COLUMNS), '-y', String(ROWS), `sh ${script}`);
  const keys: Record<Key, string> = { Enter: 'Enter', Up: 'Up', Down: 'Down', CtrlC: 'C-c' };
  return {
    driver: 'tmux',
    waitFor: (text) => poll(() => tmux('capture-pane', '-p', '-t', 'init'), text),
    type: async (text) => void (await tmux('send-keys', '-t', 'init', '-l', text)),
    press: async (key) => void (await tmux('send-keys', '-t', 'init', keys[key])),
    async close() {
      await tmux('kill-server').catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs the command on a pseudo-terminal of the given size and relays bytes both ways. */
const PTY_RELAY = `
import fcntl, os, pty, select, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', ${ROWS}, ${COLUMNS}, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])
inputs = [fd, 0]
while True:
    ready, _, _ = select.select(inputs, [], [])
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            os.write(fd, data)
        else:
            inputs.remove(0)
os.waitpid(pid, 0)
`;

function endOfMatch(screen: string, text: string | RegExp): number {
  if (typeof text === 'string') return screen.indexOf(text) + text.length;
  const match = text.exec(screen)!;
  return match.index + match[0].length;
}

/** Cursor movement and colour codes out, so what remains reads like the screen's text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape sequences a terminal receives begin with the ESC control character
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]/g;

async function startPythonPty(dir: string, script: string): Promise<Terminal> {
  const child: ChildProcess = spawn('python3', ['-c', PTY_RELAY, 'sh', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  // Text up to the end of the last match is behind this mark: a redrawn prompt must not match its old frame.
  let seen = 0;
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const keys: Record<Key, string> = { Enter: '\r', Up: '\x1b[A', Down: '\x1b[B', CtrlC: '\x03' };
  const send = (bytes: string) =>
    new Promise<void>((resolve, reject) => child.stdin!.write(bytes, (error) => (error ? reject(error) : resolve())));
  return {
    driver: 'python-pty',
    async waitFor(text) {
      const screen = await poll(() => output.replace(ANSI, '').slice(seen), text);
      seen += endOfMatch(screen, text);
      return screen;
    },
    type: (text) => send(text),
    press: (key) => send(keys[key]),
    async close() {
      if (child.exitCode === null) {
        const closed = new Promise((resolve) => child.once('close', resolve));
        child.kill();
        await closed;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
