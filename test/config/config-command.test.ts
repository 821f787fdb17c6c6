import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import type { CommandContext } from '../../src/cli/context.ts';
import { run } from '../../src/commands/config.ts';
import { ConfigError, ExitCode } from '../../src/errors.ts';
import { useTempProject } from './temp-project.ts';

function collector() {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

const TOKEN = 'dapi0123456789abcdef0123';

describe('otel-mlflow config', () => {
  const project = useTempProject();
  before(async () => {
    await project.write(
      '.env',
      `DATABRICKS_HOST=https://dbc-1.cloud.databricks.com\nDATABRICKS_TOKEN=${TOKEN}\nMLFLOW_TRACKING_URI=databricks\nMLFLOW_EXPERIMENT_NAME_BASIC=/Users/me@example.com/basic\n`,
    );
  });

  function context(json: boolean, env: Record<string, string> = {}) {
    const stdout = collector();
    const stderr = collector();
    const ctx: CommandContext = {
      globals: { json, color: false, verbose: false },
      flags: {},
      env,
      cwd: project.cwd,
      homeDir: project.home,
      stdout: stdout.stream,
      stderr: stderr.stream,
      interactive: false,
    };
    return { ctx, stdout: stdout.text, stderr: stderr.text };
  }

  it('prints the destination, then each value with its source, then the files, secrets masked', async () => {
    const { ctx, stdout, stderr } = context(false);
    assert.equal(await run(ctx), ExitCode.ok);
    const lines = stdout().split('\n');
    assert.equal(lines[0], 'Destination:  databricks (workspace https://dbc-1.cloud.databricks.com)');
    assert.equal(lines[1], 'Auth:         databricks-pat (personal access token)');
    assert.equal(lines[2], 'Experiment:   name /Users/me@example.com/basic');
    assert.match(stdout(), /^KEY\s+VALUE\s+SOURCE$/m);
    const dotenv = `${project.cwd}/.env`;
    assert.match(stdout(), new RegExp(`^databricksToken\\s+\\*\\*\\*\\*0123\\s+\\.env \\(${dotenv}\\) DATABRICKS_TOKEN$`, 'm'));
    assert.match(stdout(), /^exportPath\s+auto\s+default$/m);
    assert.match(stdout(), new RegExp(`^Files:\\n  \\.env\\s+${dotenv}\\n  config file\\s+\\(none\\)\\n  databrickscfg\\s+\\(none\\)\\n$`, 'm'));
    assert.ok(!stdout().includes(TOKEN));
    assert.equal(stderr(), '');
  });

  it('prints stable JSON with --json, secrets masked', async () => {
    const { ctx, stdout } = context(true);
    assert.equal(await run(ctx), ExitCode.ok);
    const json = JSON.parse(stdout());
    assert.deepEqual(Object.keys(json), ['destination', 'auth', 'experiment', 'entries', 'files']);
    assert.deepEqual(json.destination, {
      kind: 'databricks',
      host: { value: 'https://dbc-1.cloud.databricks.com', source: `.env (${project.cwd}/.env) DATABRICKS_HOST` },
      profile: null,
    });
    assert.deepEqual(json.auth, { kind: 'databricks-pat', token: { value: '****0123', source: `.env (${project.cwd}/.env) DATABRICKS_TOKEN` } });
    assert.deepEqual(json.entries.find((e: { key: string }) => e.key === 'databricksToken'), {
      key: 'databricksToken',
      value: '****0123',
      source: `.env (${project.cwd}/.env) DATABRICKS_TOKEN`,
      secret: true,
    });
    assert.deepEqual(json.files, { dotenv: `${project.cwd}/.env`, configFile: null, databricksCfg: null });
    assert.ok(!stdout().includes(TOKEN));
  });

  it('leaves an invalid configuration to the CLI error renderer as a ConfigError, printing nothing itself', async () => {
    const { ctx, stdout } = context(false, { MLFLOW_EXPERIMENT_ID: 'abc' });
    await assert.rejects(run(ctx), (error: unknown) => error instanceof ConfigError && /MLFLOW_EXPERIMENT_ID/.test(error.message));
    assert.equal(stdout(), '');
  });
});
