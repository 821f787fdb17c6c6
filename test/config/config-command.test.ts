import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import type { CommandContext } from '../../src/cli/context.ts';
import { run } from '../../src/commands/config/config.ts';
import { ExitCode } from '../../src/errors.ts';
import { runCli } from '../cli/run-cli.ts';
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
      `DATABRICKS_HOST=https://dbc-1.cloud.databricks.com\nDATABRICKS_TOKEN=${TOKEN}\nMLFLOW_TRACKING_URI=databricks\nMLFLOW_EXPERIMENT_NAME_BASIC=/Users/me@example.com/basic\nMLFLOW_EXPERIMENT_NAME_OTEL=/Users/me@example.com/app\n`,
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
    assert.equal(lines[0], 'Destination:      databricks (workspace https://dbc-1.cloud.databricks.com)');
    assert.equal(lines[1], 'Auth:             databricks-pat (personal access token)');
    assert.equal(lines[2], 'Experiment:       name /Users/me@example.com/basic — doctor');
    assert.equal(lines[3], '                  name /Users/me@example.com/app — serve, ask, suite');
    assert.match(stdout(), /^KEY\s+VALUE\s+SOURCE$/m);
    const dotenv = `${project.cwd}/.env`;
    assert.match(stdout(), new RegExp(`^databricksToken\\s+\\*\\*\\*\\*0123\\s+\\.env \\(${dotenv}\\) DATABRICKS_TOKEN$`, 'm'));
    assert.match(stdout(), /^exportPath\s+auto\s+default$/m);
    assert.match(
      stdout(),
      new RegExp(`^Files:\\n  \\.env\\s+${dotenv}\\n  config file\\s+\\(none\\)\\n  databrickscfg\\s+\\(none\\)\\n$`, 'm'),
    );
    assert.ok(!stdout().includes(TOKEN));
    assert.equal(stderr(), '');
  });

  it('prints stable JSON with --json, secrets masked', async () => {
    const { ctx, stdout } = context(true);
    assert.equal(await run(ctx), ExitCode.ok);
    const json = JSON.parse(stdout());
    assert.deepEqual(Object.keys(json), [
      'ok',
      'destination',
      'auth',
      'experiment',
      'appExperiment',
      'llm',
      'storeDir',
      'entries',
      'files',
      'notices',
    ]);
    assert.deepEqual(json.destination, {
      kind: 'databricks',
      host: { value: 'https://dbc-1.cloud.databricks.com', source: `.env (${project.cwd}/.env) DATABRICKS_HOST` },
      profile: null,
    });
    assert.deepEqual(json.auth, {
      kind: 'databricks-pat',
      token: { value: '****0123', source: `.env (${project.cwd}/.env) DATABRICKS_TOKEN` },
    });
    assert.deepEqual(
      json.entries.find((e: { key: string }) => e.key === 'databricksToken'),
      {
        key: 'databricksToken',
        value: '****0123',
        source: `.env (${project.cwd}/.env) DATABRICKS_TOKEN`,
        secret: true,
      },
    );
    assert.deepEqual(json.files, { dotenv: `${project.cwd}/.env`, configFile: null, databricksCfg: null });
    assert.ok(!stdout().includes(TOKEN));
  });

  it('shows what the app commands use: their experiment, the LLM, the store directory', async () => {
    const { ctx, stdout } = context(false, {
      MLFLOW_EXPERIMENT_NAME_OTEL: '/Users/me@example.com/other-app',
      OPENAI_API_KEY: 'sk-test-0123456789abcdefgh',
      OTEL_MLFLOW_STORE_DIR: '/tmp/otel-mlflow-store',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    assert.equal(await run(ctx), ExitCode.ok);
    assert.match(stdout(), /^ {18}name \/Users\/me@example\.com\/other-app — serve, ask, suite$/m);
    assert.match(stdout(), /^LLM: {14}openai gpt-4o-mini at https:\/\/api\.openai\.com\/v1 — serve, ask, suite$/m);
    assert.match(stdout(), /^Trace store: {6}\/tmp\/otel-mlflow-store \(cap 2048 MB\) — every trace is written here first/m);
    assert.match(
      stdout(),
      /^Sampling: {9}25% of new traces by trace id; an incoming traceparent decides for its own \(parentbased_traceidratio 0\.25\)$/m,
    );
  });
});

describe('otel-mlflow config with a configuration that does not resolve', () => {
  it('shows every value that did resolve, then each problem, with a hint that does not send you back to config', async () => {
    const token = 'dapi0123456789abcdef0123';
    const result = await runCli(['config'], {
      env: { MLFLOW_TRACKING_URI: 'databricks', DATABRICKS_HOST: 'https://dbc-1.cloud.databricks.com', DATABRICKS_TOKEN: token },
    });
    assert.equal(result.code, ExitCode.config);
    assert.match(result.stdout, /^trackingUri\s+databricks\s+env MLFLOW_TRACKING_URI$/m);
    assert.match(result.stdout, /^databricksHost\s+https:\/\/dbc-1\.cloud\.databricks\.com\s+env DATABRICKS_HOST$/m);
    assert.match(result.stdout, /^databricksToken\s+\*\*\*\*0123\s+env DATABRICKS_TOKEN$/m);
    assert.match(result.stderr, /set MLFLOW_EXPERIMENT_NAME_BASIC or MLFLOW_EXPERIMENT_NAME .* \(doctor\)$/m);
    assert.match(result.stderr, /set MLFLOW_EXPERIMENT_NAME_OTEL or MLFLOW_EXPERIMENT_NAME .* \(serve, ask, suite\)$/m);
    assert.match(result.stderr, /^hint: /m);
    assert.doesNotMatch(result.stderr, /otel-mlflow config/);
    assert.ok(!(result.stdout + result.stderr).includes(token));
  });

  it('with --json, prints one object with what resolved and the problems', async () => {
    const result = await runCli(['config', '--json'], {
      env: { MLFLOW_TRACKING_URI: 'databricks', DATABRICKS_HOST: 'https://dbc-1.cloud.databricks.com' },
    });
    assert.equal(result.code, ExitCode.config);
    const json = JSON.parse(result.stdout);
    assert.equal(json.ok, false);
    assert.ok(json.entries.some((e: { key: string }) => e.key === 'databricksHost'));
    assert.ok(json.problems.some((p: { message: string }) => /no Databricks credentials/.test(p.message)));
  });

  it("lists the placeholders of the demo .env for doctor's variables as for the app's", async () => {
    const result = await runCli(['config'], { dotenv: 'MLFLOW_EXPERIMENT_NAME_BASIC=/Users/your.email@company.com/otel-tracing-basic\n' });
    assert.equal(result.code, ExitCode.ok, result.stderr);
    assert.match(result.stdout, /^! \.env \(.*\) MLFLOW_EXPERIMENT_NAME_BASIC is the example \.env's placeholder, not a real value/m);
  });

  it('says so when Databricks variables are set but nothing sends traces there', async () => {
    const result = await runCli(['config'], {
      env: { DATABRICKS_HOST: 'https://dbc-1.cloud.databricks.com', DATABRICKS_TOKEN: 'dapi0123456789abcdef0123' },
    });
    assert.equal(result.code, ExitCode.ok, result.stderr);
    assert.match(
      result.stdout,
      /^! DATABRICKS_HOST \(from env DATABRICKS_HOST\) is set but MLFLOW_TRACKING_URI is not, so traces stay in the local store; set MLFLOW_TRACKING_URI=databricks/m,
    );
  });
});
