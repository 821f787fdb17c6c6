import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { constants, tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { availableDrivers, startTerminal } from '../commands/init/terminal-driver.ts';
import { oldNode } from './old-node.ts';
import { startServe } from './serve-process.ts';

const BIN = fileURLToPath(new URL('../../bin/otel-mlflow.js', import.meta.url));
const CLOSING_LINE = /^traces: 0 kept in the local store \S+$/m;
const PARENT_GONE = /^the process that started otel-mlflow \(pid \d+\) went away: finishing in-flight requests/m;
const OLD_NODE = oldNode();
/** npm's shell, which dies on SIGTERM without passing it on: it runs the command given after it. */
const NPM_SHELL = [
  process.execPath,
  '-e',
  "require('node:child_process').spawn(process.execPath, process.argv.slice(1), { stdio: 'inherit' })",
];

/** Whether nothing listens on the server's port any more: binding it succeeds. */
function portIsFree(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(Number(port), hostname, () => probe.close(() => resolve(true)));
  });
}

describe(`serve under the launcher (${OLD_NODE.description})`, () => {
  it('SIGINT sent to the launcher alone reaches serve: it closes as on Ctrl-C, and its exit code comes back', async () => {
    const server = await startServe([], {}, OLD_NODE.argv);
    const stopped = await server.stop('SIGINT');
    assert.equal(stopped.forced, false, 'serve did not end: SIGINT was not passed on');
    assert.match(stopped.stdout, /^SIGINT: finishing in-flight requests/m);
    assert.match(stopped.stdout, CLOSING_LINE);
    assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
  });

  it('a signal serve does not handle ends it, and the launcher ends the same way', async () => {
    const server = await startServe([], {}, OLD_NODE.argv);
    const stopped = await server.stop('SIGUSR2');
    assert.equal(stopped.forced, false, 'serve did not end: the signal was not passed on');
    // Re-raised, as a shell expects; or, where that cannot be, the shell's own number for it (128 + n).
    assert.ok(
      stopped.signal === 'SIGUSR2' || stopped.code === 128 + constants.signals.SIGUSR2,
      `ended with ${stopped.signal ?? stopped.code}`,
    );
  });

  const [driver] = availableDrivers();
  it('Ctrl-C on a terminal, which reaches the launcher and serve both, is one request: serve closes cleanly', {
    skip: driver ? false : 'neither tmux nor python3 (pty) is installed',
  }, async () => {
    const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-serve-terminal-'));
    const terminal = await startTerminal(driver!, {
      argv: [...OLD_NODE.argv, BIN, 'serve', '--port', '0'],
      cwd: home,
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, TERM: 'xterm-256color', NO_COLOR: '1' },
    });
    try {
      await terminal.waitFor('listening on');
      await terminal.press('CtrlC');
      const screen = await terminal.waitFor('[exited with status');
      assert.match(screen, /traces: 0 kept in the local store/);
      assert.match(screen, /\[exited with status 0\]/);
    } finally {
      await terminal.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  it('the launcher killed outright: serve notices, shuts down cleanly by itself and frees its port', async () => {
    const server = await startServe([], {}, OLD_NODE.argv);
    // Nothing is passed on: serve must see for itself that its launcher is gone (stop() waits for it to end).
    const stopped = await server.stop('SIGKILL');
    assert.equal(stopped.forced, false, 'serve went on running without its parent');
    assert.match(stopped.stdout, PARENT_GONE);
    assert.match(stopped.stdout, CLOSING_LINE);
    assert.ok(await portIsFree(server.url), `${server.url} is still taken`);
  });
});

describe('serve started through npm', () => {
  it("npm's shell killed (what `kill -TERM` on npx does): serve notices, shuts down cleanly by itself and frees its port", async () => {
    const server = await startServe([], { npm_command: 'exec' }, NPM_SHELL);
    const stopped = await server.stop('SIGKILL');
    assert.equal(stopped.forced, false, 'serve went on running without its parent');
    assert.match(stopped.stdout, PARENT_GONE);
    assert.match(stopped.stdout, CLOSING_LINE);
    assert.ok(await portIsFree(server.url), `${server.url} is still taken`);
  });
});
