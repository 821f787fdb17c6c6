import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { describeSource } from '../../src/config/mask.ts';
import { useTempProject } from './temp-project.ts';

const SELF_HOSTED = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' };
const WORKSPACE = {
  MLFLOW_TRACKING_URI: 'databricks',
  DATABRICKS_HOST: 'https://dbc-1.cloud.databricks.com',
  MLFLOW_EXPERIMENT_NAME: '/Users/me@example.com/traces',
};

describe('auth for a self-hosted MLflow', () => {
  const project = useTempProject();

  it('is Basic with a username and a password, even when a token is set too', async () => {
    const config = await project.load({
      env: { ...SELF_HOSTED, MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'pw', MLFLOW_TRACKING_TOKEN: 'tok' },
    });
    assert.equal(config.auth.kind, 'basic');
    assert.equal(config.auth.username.value, 'alice');
    assert.equal(config.auth.password.value, 'pw');
  });

  it('is Bearer with only a token, and none without anything', async () => {
    const bearer = await project.load({ env: { ...SELF_HOSTED, MLFLOW_TRACKING_TOKEN: 'tok' } });
    assert.equal(bearer.auth.kind, 'bearer');
    assert.equal(bearer.auth.token.value, 'tok');
    assert.deepEqual((await project.load({ env: SELF_HOSTED })).auth, { kind: 'none' });
  });

  it('refuses a username without a password, naming both', async () => {
    const error = await project.loadError({ env: { ...SELF_HOSTED, MLFLOW_TRACKING_USERNAME: 'alice' } });
    assert.deepEqual(error.problems, [
      {
        message: 'MLFLOW_TRACKING_USERNAME is set but MLFLOW_TRACKING_PASSWORD is not set; Basic auth needs both (or set neither)',
        source: 'env MLFLOW_TRACKING_USERNAME',
      },
    ]);
  });

  it('says where a password was left empty', async () => {
    const dotenv = await project.write('.env', 'MLFLOW_TRACKING_PASSWORD=\n');
    const error = await project.loadError({ env: { ...SELF_HOSTED, MLFLOW_TRACKING_USERNAME: 'alice' } });
    assert.match(error.message, new RegExp(`MLFLOW_TRACKING_PASSWORD is empty \\(in \\.env \\(${dotenv}\\) MLFLOW_TRACKING_PASSWORD\\)`));
    await project.write('.env', '');
  });
});

describe('auth for Databricks (unified auth order)', () => {
  const project = useTempProject();
  before(async () => {
    await project.writeHome(
      '.databrickscfg',
      '[DEFAULT]\ntoken = dapi-profile\nclient_id = profile-client\nclient_secret = profile-secret\n',
    );
  });

  it('takes DATABRICKS_TOKEN first', async () => {
    const config = await project.load({
      env: { ...WORKSPACE, DATABRICKS_TOKEN: 'dapi-env', DATABRICKS_CLIENT_ID: 'id', DATABRICKS_CLIENT_SECRET: 's' },
    });
    assert.equal(config.auth.kind, 'databricks-pat');
    assert.equal(config.auth.token.value, 'dapi-env');
  });

  it('takes DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET before the profile token', async () => {
    const config = await project.load({
      env: { ...WORKSPACE, DATABRICKS_CLIENT_ID: 'env-client', DATABRICKS_CLIENT_SECRET: 'env-secret' },
    });
    assert.equal(config.auth.kind, 'databricks-oauth-m2m');
    assert.equal(config.auth.clientId.value, 'env-client');
    assert.equal(describeSource(config.auth.clientSecret.source), 'env DATABRICKS_CLIENT_SECRET');
  });

  it("takes the profile's token before the profile's OAuth client", async () => {
    const config = await project.load({ env: WORKSPACE });
    assert.equal(config.auth.kind, 'databricks-pat');
    assert.equal(describeSource(config.auth.token.source), '~/.databrickscfg [DEFAULT] token');
  });

  it('names the variables to set when there are no credentials at all', async () => {
    const error = await project.loadError({
      env: { ...WORKSPACE, DATABRICKS_CONFIG_FILE: await project.writeHome('empty.cfg', '[DEFAULT]\n') },
    });
    assert.equal(error.problems.length, 1);
    assert.match(
      error.problems[0]!.message,
      /^no Databricks credentials: set DATABRICKS_TOKEN to a personal access token, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET for an OAuth service principal/,
    );
  });

  it('refuses half an OAuth client when nothing else would do', async () => {
    const cfg = await project.writeHome('empty.cfg', '[DEFAULT]\n');
    const error = await project.loadError({ env: { ...WORKSPACE, DATABRICKS_CONFIG_FILE: cfg, DATABRICKS_CLIENT_ID: 'env-client' } });
    assert.deepEqual(error.problems, [
      {
        message:
          'DATABRICKS_CLIENT_ID is set but DATABRICKS_CLIENT_SECRET is not set; OAuth M2M needs both (or set DATABRICKS_TOKEN instead)',
        source: 'env DATABRICKS_CLIENT_ID',
      },
    ]);
  });
});
