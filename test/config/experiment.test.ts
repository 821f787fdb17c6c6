import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSource } from '../../src/config/mask.ts';
import type { ExperimentRef } from '../../src/config/types.ts';
import { useTempProject } from './temp-project.ts';

function show(experiment: ExperimentRef): string {
  const sourced = experiment.kind === 'id' ? experiment.id : experiment.name;
  return `${experiment.kind} ${sourced.value} (${describeSource(sourced.source)})`;
}

const DATABRICKS = { MLFLOW_TRACKING_URI: 'databricks', DATABRICKS_HOST: 'https://dbc-1.cloud.databricks.com', DATABRICKS_TOKEN: 'dapi-x' };

describe('experiment', () => {
  const project = useTempProject();

  it('defaults to otel-mlflow-doctor for doctor and otel-mlflow for the app', async () => {
    assert.equal(show((await project.load({ purpose: 'doctor' })).experiment), 'name otel-mlflow-doctor (default)');
    assert.equal(show((await project.load({ purpose: 'app' })).experiment), 'name otel-mlflow (default)');
  });

  it('goes --experiment-id, --experiment, MLFLOW_EXPERIMENT_ID, the purpose variable, MLFLOW_EXPERIMENT_NAME, config file', async () => {
    await project.write('.otel-mlflowrc.json', JSON.stringify({ experimentName: 'file-name' }));
    const env = {
      MLFLOW_EXPERIMENT_ID: '42',
      MLFLOW_EXPERIMENT_NAME_BASIC: 'basic-name',
      MLFLOW_EXPERIMENT_NAME_OTEL: 'otel-name',
      MLFLOW_EXPERIMENT_NAME: 'plain-name',
    };
    const experiment = async (flags: object, environment: Record<string, string>, purpose: 'doctor' | 'app' = 'doctor') =>
      show((await project.load({ flags, env: environment, purpose })).experiment);
    assert.equal(await experiment({ experimentId: '7', experiment: 'flag-name' }, env), 'id 7 (flag --experiment-id)');
    assert.equal(await experiment({ experiment: 'flag-name' }, env), 'name flag-name (flag --experiment)');
    assert.equal(await experiment({}, env), 'id 42 (env MLFLOW_EXPERIMENT_ID)');
    const { MLFLOW_EXPERIMENT_ID: _id, ...names } = env;
    assert.equal(await experiment({}, names), 'name basic-name (env MLFLOW_EXPERIMENT_NAME_BASIC)');
    assert.equal(await experiment({}, names, 'app'), 'name otel-name (env MLFLOW_EXPERIMENT_NAME_OTEL)');
    assert.equal(await experiment({}, { MLFLOW_EXPERIMENT_NAME: 'plain-name' }), 'name plain-name (env MLFLOW_EXPERIMENT_NAME)');
    assert.equal(await experiment({}, {}), `name file-name (config file ${project.cwd}/.otel-mlflowrc.json key experimentName)`);
    await project.write('.otel-mlflowrc.json', '{}');
  });

  it('does not list the default name among the entries when an id is used', async () => {
    const config = await project.load({ flags: { experimentId: '7' } });
    assert.deepEqual(
      config.entries.filter((e) => e.key.startsWith('experiment')).map((e) => e.key),
      ['experimentId'],
    );
  });

  it('refuses an id that is not a number', async () => {
    const error = await project.loadError({ env: { MLFLOW_EXPERIMENT_ID: 'my-experiment' } });
    assert.equal(error.problems[0]?.source, 'env MLFLOW_EXPERIMENT_ID');
    assert.match(
      error.problems[0]!.message,
      /^MLFLOW_EXPERIMENT_ID must be a numeric experiment id .*got 'my-experiment'.*use --experiment or MLFLOW_EXPERIMENT_NAME/,
    );
  });

  it('on Databricks, wants a workspace path and shows what one looks like', async () => {
    const error = await project.loadError({ env: { ...DATABRICKS, MLFLOW_EXPERIMENT_NAME: 'traces' } });
    assert.deepEqual(error.problems, [
      {
        message: "experiment name 'traces' is not a workspace path; on Databricks use /Users/<you>/traces",
        source: 'env MLFLOW_EXPERIMENT_NAME',
      },
    ]);
    const noName = await project.loadError({ env: DATABRICKS });
    assert.match(
      noName.message,
      /no experiment is set.*set MLFLOW_EXPERIMENT_NAME_BASIC or MLFLOW_EXPERIMENT_NAME.*\/Users\/<you>\/otel-mlflow-doctor/,
    );
  });

  it('on Databricks, keeps a /Workspace/Users/... path as given', async () => {
    const config = await project.load({ env: { ...DATABRICKS, MLFLOW_EXPERIMENT_NAME: '/Workspace/Users/me@example.com/x' } });
    assert.equal(show(config.experiment), 'name /Workspace/Users/me@example.com/x (env MLFLOW_EXPERIMENT_NAME)');
  });
});
