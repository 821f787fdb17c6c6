import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExpectedError } from '../../../src/errors.ts';
import { missingFlags, resolveDestinationFlags, withDefaults, type InitAnswers } from '../../../src/commands/init/init-answers.ts';

const base: InitAnswers = { createExperiment: false };
const nothingExisting = () => undefined;

describe('init flags', () => {
  it('infer the destination from the flags that belong to it', () => {
    assert.equal(resolveDestinationFlags({ ...base, trackingUri: 'http://127.0.0.1:5000' }).destination, 'mlflow');
    assert.equal(resolveDestinationFlags({ ...base, databricksHost: 'https://x.cloud.databricks.com' }).destination, 'databricks');
    assert.equal(resolveDestinationFlags({ ...base, otlpEndpoint: 'http://127.0.0.1:4318/v1/traces' }).destination, 'collector');
    assert.equal(resolveDestinationFlags(base).destination, undefined);
  });

  it('read databricks, databricks://<profile> and a workspace URL in --tracking-uri as Databricks', () => {
    assert.deepEqual(resolveDestinationFlags({ ...base, trackingUri: 'databricks://ci' }), {
      ...base,
      destination: 'databricks',
      profile: 'ci',
    });
    assert.deepEqual(resolveDestinationFlags({ ...base, trackingUri: 'https://adb-1.2.azuredatabricks.net/' }), {
      ...base,
      destination: 'databricks',
      databricksHost: 'https://adb-1.2.azuredatabricks.net',
    });
  });

  it('refuse flags of two destinations, or of another one than --destination', () => {
    assert.throws(
      () => resolveDestinationFlags({ ...base, trackingUri: 'http://127.0.0.1:5000', otlpEndpoint: 'http://127.0.0.1:4318/v1/traces' }),
      (error: unknown) =>
        error instanceof ExpectedError &&
        error.exitCode === 2 &&
        /--tracking-uri, --otlp-endpoint belong to different destinations/.test(error.message),
    );
    assert.throws(
      () => resolveDestinationFlags({ ...base, destination: 'mlflow', trackingUri: 'databricks' }),
      /--tracking-uri does not apply to --destination mlflow/,
    );
  });

  it('with --yes, default to the local store, the otel-mlflow experiment and the offline model', () => {
    assert.deepEqual(withDefaults(base), { ...base, destination: 'local', llm: 'offline' });
    assert.deepEqual(withDefaults({ ...base, destination: 'mlflow' }), {
      ...base,
      destination: 'mlflow',
      experiment: 'otel-mlflow',
      llm: 'offline',
    });
    assert.equal(withDefaults({ ...base, destination: 'databricks' }).experiment, '/Shared/otel-mlflow');
  });

  it('list every flag a script still has to pass, at once', () => {
    assert.deepEqual(missingFlags(base, nothingExisting), [
      '--destination mlflow|databricks|collector|local',
      '--llm openai|anthropic|databricks|offline',
    ]);
    assert.deepEqual(missingFlags({ ...base, destination: 'mlflow', llm: 'openai' }, nothingExisting), [
      '--tracking-uri <url>',
      '--experiment <name>',
      '--openai-api-key <key>',
    ]);
    assert.deepEqual(
      missingFlags(
        { ...base, destination: 'databricks', databricksHost: 'https://x.cloud.databricks.com', experiment: '/Shared/x', llm: 'offline' },
        nothingExisting,
      ),
      ['--databricks-token <token>'],
    );
  });

  it('do not ask a script for a secret the environment or .env already holds', () => {
    const existing = (name: string) => ({ DATABRICKS_TOKEN: 'dapi-1', OPENAI_API_KEY: 'sk-1' })[name];
    const answers: InitAnswers = {
      ...base,
      destination: 'databricks',
      databricksHost: 'https://x.cloud.databricks.com',
      experiment: '/Shared/x',
      llm: 'openai',
    };
    assert.deepEqual(missingFlags(answers, existing), []);
  });
});
