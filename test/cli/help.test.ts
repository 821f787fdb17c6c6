import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from './run-cli.ts';

const SUBCOMMANDS = [
  ['doctor'],
  ['serve'],
  ['ask'],
  ['suite'],
  ['init'],
  ['config'],
  ['traces', 'list'],
  ['traces', 'show'],
  ['traces', 'push'],
  ['traces', 'prune'],
];

describe('--help of each command', () => {
  for (const command of SUBCOMMANDS) {
    it(`${command.join(' ')} --help lists the global options too`, async () => {
      const result = await runCli([...command, '--help']);
      assert.equal(result.code, 0, result.stderr);
      const global = result.stdout.slice(result.stdout.indexOf('Global Options:'));
      for (const flag of ['--json', '--tracking-uri <uri>', '--experiment <name>', '--profile <name>', '--store-dir <dir>']) {
        assert.ok(global.includes(flag), `${flag} is missing from:\n${result.stdout}`);
      }
    });
  }

  it('serve --help says the API docs stay open with --auth-token, as the README does', async () => {
    const result = await runCli(['serve', '--help']);
    assert.match(result.stdout.replace(/\s+/g, ' '), /every route but GET \/ and the API docs/);
  });
});
