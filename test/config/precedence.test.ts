import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { describeSource } from '../../src/config/mask.ts';
import type { ResolvedConfig } from '../../src/config/types.ts';
import { useTempProject } from './temp-project.ts';

function experimentName(config: ResolvedConfig) {
  assert.equal(config.experiment.kind, 'name');
  return { value: config.experiment.name.value, source: describeSource(config.experiment.name.source) };
}

describe('precedence: flag > env > .env > config file > ~/.databrickscfg > default', () => {
  const project = useTempProject();
  before(async () => {
    await project.write(
      '.env',
      'MLFLOW_EXPERIMENT_NAME=from-dotenv\nOTEL_MLFLOW_EXPORT_PATH=otlp\nDATABRICKS_HOST=dotenv.cloud.databricks.com\n',
    );
    await project.write(
      '.otel-mlflowrc.json',
      JSON.stringify({ experimentName: 'from-file', exportPath: 'auto', databricksHost: 'https://file.cloud.databricks.com' }),
    );
    await project.writeHome('.databrickscfg', '[DEFAULT]\nhost = https://cfg.cloud.databricks.com\ntoken = dapi-cfg-token\n');
  });

  it('takes the experiment name from each source in turn, and says which', async () => {
    const dotenv = `${project.cwd}/.env`;
    const file = `${project.cwd}/.otel-mlflowrc.json`;
    const env = { MLFLOW_EXPERIMENT_NAME: 'from-env' };
    assert.deepEqual(experimentName(await project.load({ env, flags: { experiment: 'from-flag' } })), {
      value: 'from-flag',
      source: 'flag --experiment',
    });
    assert.deepEqual(experimentName(await project.load({ env })), { value: 'from-env', source: 'env MLFLOW_EXPERIMENT_NAME' });
    assert.deepEqual(experimentName(await project.load()), { value: 'from-dotenv', source: `.env (${dotenv}) MLFLOW_EXPERIMENT_NAME` });

    await project.write('.env', 'OTEL_MLFLOW_EXPORT_PATH=otlp\n');
    assert.deepEqual(experimentName(await project.load()), { value: 'from-file', source: `config file ${file} key experimentName` });

    await project.write('.otel-mlflowrc.json', '{}');
    assert.deepEqual(experimentName(await project.load()), { value: 'otel-mlflow-doctor', source: 'default' });
  });

  it('takes the Databricks host from env, .env, config file, then the profile', async () => {
    await project.write('.env', 'DATABRICKS_HOST=dotenv.cloud.databricks.com\n');
    await project.write('.otel-mlflowrc.json', JSON.stringify({ databricksHost: 'https://file.cloud.databricks.com' }));
    const flags = { trackingUri: 'databricks', experiment: '/Users/me@example.com/traces' };
    const host = async (env: Record<string, string> = {}) => {
      const config = await project.load({ flags, env });
      assert.equal(config.destination.kind, 'databricks');
      return { value: config.destination.host.value, source: describeSource(config.destination.host.source) };
    };
    assert.deepEqual(await host({ DATABRICKS_HOST: 'https://env.cloud.databricks.com/' }), {
      value: 'https://env.cloud.databricks.com',
      source: 'env DATABRICKS_HOST',
    });
    assert.deepEqual(await host(), { value: 'https://dotenv.cloud.databricks.com', source: `.env (${project.cwd}/.env) DATABRICKS_HOST` });
    await project.write('.env', '');
    assert.deepEqual(await host(), {
      value: 'https://file.cloud.databricks.com',
      source: `config file ${project.cwd}/.otel-mlflowrc.json key databricksHost`,
    });
    await project.write('.otel-mlflowrc.json', '{}');
    assert.deepEqual(await host(), { value: 'https://cfg.cloud.databricks.com', source: '~/.databrickscfg [DEFAULT] host' });
  });

  it('lets an environment variable hide the .env line of the same name, as load_dotenv does', async () => {
    await project.write('.env', 'OTEL_MLFLOW_EXPORT_PATH=rest\n');
    const config = await project.load({ env: { OTEL_MLFLOW_EXPORT_PATH: 'otlp' } });
    assert.equal(config.exportPath.value, 'otlp');
    assert.deepEqual(config.exportPath.source, { kind: 'env', name: 'OTEL_MLFLOW_EXPORT_PATH' });
  });

  it('treats an empty value as unset and falls through to the next source', async () => {
    await project.write('.env', 'MLFLOW_EXPERIMENT_NAME=\n');
    await project.write('.otel-mlflowrc.json', JSON.stringify({ experimentName: 'from-file' }));
    assert.equal(experimentName(await project.load()).value, 'from-file');
  });

  it('lists every value that was set, defaults included, in the entries', async () => {
    await project.write('.env', 'MLFLOW_TRACKING_URI=http://127.0.0.1:5000\n');
    await project.write('.otel-mlflowrc.json', '{}');
    const config = await project.load({ flags: { exportPath: 'rest' } });
    assert.deepEqual(
      config.entries.map((e) => [e.key, e.value, describeSource(e.source)]),
      [
        ['trackingUri', 'http://127.0.0.1:5000', `.env (${project.cwd}/.env) MLFLOW_TRACKING_URI`],
        ['experimentName', 'otel-mlflow-doctor', 'default'],
        ['exportPath', 'rest', 'flag --export-path'],
        ['otlpEncoding', 'protobuf', 'default'],
        ['serviceName', 'otel-mlflow', 'default'],
        ['storeMaxMb', '2048', 'default'],
        ['sdkDisabled', 'false', 'default'],
        ['tracesSampler', 'parentbased_always_on', 'default'],
        ['captureContent', 'true', 'default'],
      ],
    );
    assert.deepEqual(config.files, { dotenv: `${project.cwd}/.env`, configFile: `${project.cwd}/.otel-mlflowrc.json` });
  });
});
