import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSource } from '../../src/config/mask.ts';
import { useTempProject } from './temp-project.ts';

const EXPERIMENT = { MLFLOW_EXPERIMENT_NAME: '/Users/me@example.com/traces' };

describe('destination', () => {
  const project = useTempProject();

  it('is none when nothing names one', async () => {
    assert.deepEqual((await project.load()).destination, { kind: 'local' });
  });

  it('is a self-hosted MLflow for an http(s) URI, without a trailing slash but with its path prefix', async () => {
    const config = await project.load({ env: { MLFLOW_TRACKING_URI: 'https://proxy.example.com/mlflow/' } });
    assert.deepEqual(config.destination, {
      kind: 'mlflow',
      trackingUri: { value: 'https://proxy.example.com/mlflow', source: { kind: 'env', name: 'MLFLOW_TRACKING_URI' } },
    });
  });

  for (const uri of [
    'https://dbc-1234.cloud.databricks.com',
    'https://adb-1.2.azuredatabricks.net/',
    'https://1234.5.gcp.databricks.com/',
  ]) {
    it(`is Databricks for the workspace URL ${uri}`, async () => {
      const config = await project.load({ env: { MLFLOW_TRACKING_URI: uri, DATABRICKS_TOKEN: 'dapi-x', ...EXPERIMENT } });
      assert.equal(config.destination.kind, 'databricks');
      assert.equal(config.destination.host.value, uri.replace(/\/$/, ''));
    });
  }

  it('is Databricks for any URL equal to DATABRICKS_HOST (a custom workspace domain)', async () => {
    const config = await project.load({
      env: {
        MLFLOW_TRACKING_URI: 'https://ml.corp.example.com',
        DATABRICKS_HOST: 'ml.corp.example.com',
        DATABRICKS_TOKEN: 'dapi-x',
        ...EXPERIMENT,
      },
    });
    assert.equal(config.destination.kind, 'databricks');
    assert.deepEqual(config.destination.host, { value: 'https://ml.corp.example.com', source: { kind: 'env', name: 'DATABRICKS_HOST' } });
  });

  it('is Databricks for `databricks`, with the host from DATABRICKS_HOST normalised to https:// without a slash', async () => {
    const config = await project.load({
      env: { MLFLOW_TRACKING_URI: 'databricks', DATABRICKS_HOST: 'dbc-1.cloud.databricks.com/', DATABRICKS_TOKEN: 'dapi-x', ...EXPERIMENT },
    });
    assert.equal(config.destination.kind, 'databricks');
    assert.equal(config.destination.host.value, 'https://dbc-1.cloud.databricks.com');
  });

  it('refuses an http:// workspace host and says to use https://', async () => {
    const error = await project.loadError({
      env: {
        MLFLOW_TRACKING_URI: 'databricks',
        DATABRICKS_HOST: 'http://dbc-1.cloud.databricks.com',
        DATABRICKS_TOKEN: 'dapi-x',
        ...EXPERIMENT,
      },
    });
    assert.deepEqual(error.problems, [
      {
        message: 'DATABRICKS_HOST must use https:// (Databricks workspaces only answer over HTTPS): https://dbc-1.cloud.databricks.com',
        source: 'env DATABRICKS_HOST',
      },
      {
        message:
          'no Databricks workspace host: set DATABRICKS_HOST=https://<workspace>.cloud.databricks.com, or add host to profile [DEFAULT] in ~/.databrickscfg',
      },
    ]);
  });

  it('refuses a workspace URL and a DATABRICKS_HOST that disagree', async () => {
    const error = await project.loadError({
      env: {
        MLFLOW_TRACKING_URI: 'https://a.cloud.databricks.com',
        DATABRICKS_HOST: 'https://b.cloud.databricks.com',
        DATABRICKS_TOKEN: 'dapi-x',
        ...EXPERIMENT,
      },
    });
    assert.equal(error.problems.length, 1);
    assert.match(
      error.problems[0]!.message,
      /points at workspace https:\/\/a\.cloud\.databricks\.com, but DATABRICKS_HOST \(from env DATABRICKS_HOST\) is https:\/\/b/,
    );
  });

  it('is a Unity Catalog table when one is named, on the Databricks host', async () => {
    const config = await project.load({
      env: {
        OTEL_MLFLOW_UC_TABLE: 'main.traces.app_otel_spans',
        DATABRICKS_HOST: 'https://dbc-1.cloud.databricks.com',
        DATABRICKS_TOKEN: 'dapi-x',
      },
    });
    assert.equal(config.destination.kind, 'unity-catalog');
    assert.equal(config.destination.table.value, 'main.traces.app_otel_spans');
    assert.equal(config.destination.host.value, 'https://dbc-1.cloud.databricks.com');
  });

  it('needs a workspace host for a Unity Catalog table, and a three-part table name', async () => {
    const error = await project.loadError({ flags: { ucTable: 'traces' }, env: { DATABRICKS_TOKEN: 'dapi-x' } });
    assert.deepEqual(
      error.problems.map((p) => p.source),
      ['flag --uc-table'],
    );
    assert.match(error.problems[0]!.message, /^--uc-table must be a Unity Catalog table name <catalog>\.<schema>\.<table>/);
    const missingHost = await project.loadError({ flags: { ucTable: 'main.traces.t' }, env: { DATABRICKS_TOKEN: 'dapi-x' } });
    assert.match(missingHost.message, /no Databricks workspace host: set DATABRICKS_HOST/);
  });

  it('is an OTLP collector when an OTLP endpoint is set, even with a tracking URI in the environment', async () => {
    const config = await project.load({
      env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' },
    });
    assert.deepEqual(config.destination, {
      kind: 'collector',
      endpoint: { value: 'http://collector:4318/v1/traces', source: { kind: 'env', name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' } },
      headers: undefined,
    });
    assert.equal(config.auth.kind, 'none');
  });

  it('follows --tracking-uri over an OTLP endpoint from the environment', async () => {
    const config = await project.load({
      flags: { trackingUri: 'http://127.0.0.1:5000' },
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' },
    });
    assert.equal(config.destination.kind, 'mlflow');
    assert.equal(describeSource(config.destination.trackingUri.source), 'flag --tracking-uri');
  });

  for (const [uri, hint] of [
    [
      'file:///tmp/mlruns',
      /local file store.*mlflow server --backend-store-uri file:\/\/\/tmp\/mlruns.*MLFLOW_TRACKING_URI=http:\/\/127\.0\.0\.1:5000/,
    ],
    ['./mlruns', /local file store.*mlflow server --backend-store-uri \.\/mlruns/],
    ['sqlite:///mlflow.db', /database URI.*mlflow server --backend-store-uri/],
    ['ftp://example.com', /scheme otel-mlflow cannot use \(ftp:\)/],
    ['databricks://', /names no profile/],
    ['127.0.0.1:5000', /^MLFLOW_TRACKING_URI has no scheme.*; for the server at that address use http:\/\/127\.0\.0\.1:5000$/],
    ['localhost:5000/', /use http:\/\/localhost:5000$/],
    ['mlflow:5000/prefix', /use http:\/\/mlflow:5000\/prefix$/],
    ['dbc-1.cloud.databricks.com', /use https:\/\/dbc-1\.cloud\.databricks\.com$/],
  ] as const) {
    it(`refuses the tracking URI ${uri} with a hint`, async () => {
      const error = await project.loadError({ env: { MLFLOW_TRACKING_URI: uri } });
      assert.equal(error.problems.length, 1);
      assert.equal(error.problems[0]!.source, 'env MLFLOW_TRACKING_URI');
      assert.match(error.problems[0]!.message, hint);
    });
  }

  it('refuses a tracking URI with credentials in it, without repeating them', async () => {
    const error = await project.loadError({ env: { MLFLOW_TRACKING_URI: 'https://alice:hunter2-password@mlflow.example.com' } });
    assert.match(error.message, /must not contain a user name or password; set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD/);
    assert.doesNotMatch(error.message, /hunter2/);
  });
});
