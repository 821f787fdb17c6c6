import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildProgram } from '../../src/program/main.ts';
import { availableDrivers, startTerminal } from '../commands/init/terminal-driver.ts';
import { oldNode } from './old-node.ts';
import { VERSION } from '../../src/version.ts';

const BIN = fileURLToPath(new URL('../../bin/otel-mlflow.js', import.meta.url));
const OLD_NODE = oldNode();

function longFlags(command: Command): string[] {
  return [...command.options.flatMap((option) => (option.long ? [option.long] : [])), ...command.commands.flatMap((sub) => longFlags(sub))];
}

describe('flags of otel-mlflow and the Node that runs it', () => {
  it('no flag of ours is read by Node itself when it follows the script, so none can stop the tool before it starts', async () => {
    const flags = [...new Set(longFlags(buildProgram(async () => {})))];
    assert.ok(flags.includes('--secrets-file'));
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-node-flags-'));
    try {
      const script = join(dir, 'script.js');
      await writeFile(script, 'console.log("ran");\n');
      // A file that does not exist: Node's own --env-file would exit 9 ("not found") before the script.
      const args = flags.flatMap((flag) => [flag, join(dir, 'missing-file')]);
      const result = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
      assert.equal(result.stderr, '');
      assert.equal(result.stdout, 'ran\n');
      assert.equal(result.status, 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe(`the bin under a Node older than the project needs: ${OLD_NODE.description}`, () => {
  const runUnderOldNode = (args: string[]) =>
    spawnSync(OLD_NODE.argv[0]!, [...OLD_NODE.argv.slice(1), BIN, ...args], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir() },
      timeout: 30_000,
    });

  it('runs itself with the Node the project pins in node_modules', () => {
    const result = runUnderOldNode(['--version']);
    assert.equal(result.stderr, '');
    assert.equal(result.stdout, `${VERSION}\n`);
    assert.equal(result.status, 0);
  });

  it('passes on the exit code of the command', () => {
    const result = runUnderOldNode(['config', '--experiment-id', 'abc']);
    assert.match(result.stderr, /MLFLOW_EXPERIMENT_ID|--experiment-id/);
    assert.equal(result.status, 3);
  });

  const [driver] = availableDrivers();
  it("leaves on Ctrl-C with the command's own exit code, 130", {
    skip: driver ? false : 'neither tmux nor python3 (pty) is installed',
  }, async () => {
    const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-old-node-'));
    const terminal = await startTerminal(driver!, {
      argv: [...OLD_NODE.argv, BIN, 'init'],
      cwd: home,
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, TERM: 'xterm-256color' },
    });
    try {
      await terminal.waitFor('Where should traces go?');
      await terminal.press('CtrlC');
      assert.match(await terminal.waitFor('[exited with status'), /\[exited with status 130\]/);
    } finally {
      await terminal.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
