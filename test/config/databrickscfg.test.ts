import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseDatabricksCfg } from '../../src/config/databricks-cfg.ts';
import { describeSource } from '../../src/config/mask.ts';
import type { ResolvedConfig } from '../../src/config/types.ts';
import { createTempProject, useTempProject } from './temp-project.ts';

const CFG = `; profiles for otel-mlflow tests
[DEFAULT]
host = https://default.cloud.databricks.com
token = dapi-default

[flag-profile]
host = https://flag.cloud.databricks.com
token = dapi-flag

[env-profile]
host = https://env.cloud.databricks.com
token = dapi-env

[uri-profile]
host: https://uri.cloud.databricks.com
token: dapi-uri

[service-principal]
host = https://sp.cloud.databricks.com
client_id = sp-client
client_secret = sp-secret
`;

const EXPERIMENT = { MLFLOW_EXPERIMENT_NAME: '/Users/me@example.com/traces' };

function profileOf(config: ResolvedConfig) {
  assert.equal(config.destination.kind, 'databricks');
  const { host, profile } = config.destination;
  return { host: host.value, profile: profile && `${profile.value} (${describeSource(profile.source)})` };
}

describe('~/.databrickscfg profiles', () => {
  const project = useTempProject();
  let cfgPath: string;
  before(async () => {
    cfgPath = await project.writeHome('.databrickscfg', CFG);
  });

  it('chooses --profile, then DATABRICKS_CONFIG_PROFILE, then databricks://<profile>, then DEFAULT', async () => {
    const env = { ...EXPERIMENT, DATABRICKS_CONFIG_PROFILE: 'env-profile', MLFLOW_TRACKING_URI: 'databricks://uri-profile' };
    assert.deepEqual(profileOf(await project.load({ env, flags: { profile: 'flag-profile' } })), {
      host: 'https://flag.cloud.databricks.com',
      profile: 'flag-profile (flag --profile)',
    });
    assert.deepEqual(profileOf(await project.load({ env })), {
      host: 'https://env.cloud.databricks.com',
      profile: 'env-profile (env DATABRICKS_CONFIG_PROFILE)',
    });
    const { DATABRICKS_CONFIG_PROFILE: _profile, ...uriOnly } = env;
    assert.deepEqual(profileOf(await project.load({ env: uriOnly })), {
      host: 'https://uri.cloud.databricks.com',
      profile: 'uri-profile (env MLFLOW_TRACKING_URI)',
    });
    assert.deepEqual(profileOf(await project.load({ env: { ...EXPERIMENT, MLFLOW_TRACKING_URI: 'databricks' } })), {
      host: 'https://default.cloud.databricks.com',
      profile: 'DEFAULT (default)',
    });
  });

  it("reports the profile's values with the file, profile and key they came from", async () => {
    const config = await project.load({ env: { ...EXPERIMENT, MLFLOW_TRACKING_URI: 'databricks' } });
    assert.equal(config.auth.kind, 'databricks-pat');
    assert.equal(describeSource(config.auth.token.source), '~/.databrickscfg [DEFAULT] token');
    assert.equal(config.files.databricksCfg, cfgPath);
  });

  it('takes an OAuth client from a profile', async () => {
    const config = await project.load({ env: EXPERIMENT, flags: { trackingUri: 'databricks', profile: 'service-principal' } });
    assert.equal(config.auth.kind, 'databricks-oauth-m2m');
    assert.equal(config.auth.clientId.value, 'sp-client');
    assert.equal(config.auth.clientSecret.value, 'sp-secret');
    assert.equal(describeSource(config.auth.clientSecret.source), '~/.databrickscfg [service-principal] client_secret');
  });

  it('lists the profiles that exist when an unknown one is asked for', async () => {
    const error = await project.loadError({ env: EXPERIMENT, flags: { trackingUri: 'databricks', profile: 'prod' } });
    assert.deepEqual(error.problems[0], {
      message:
        'profile prod is not in ~/.databrickscfg; profiles there: DEFAULT, flag-profile, env-profile, uri-profile, service-principal',
      source: 'flag --profile',
    });
  });

  it('reads the file named by DATABRICKS_CONFIG_FILE, and refuses one that does not exist', async () => {
    const other = await project.writeHome('elsewhere/cfg', '[DEFAULT]\nhost = elsewhere.cloud.databricks.com\ntoken = dapi-elsewhere\n');
    const config = await project.load({ env: { ...EXPERIMENT, MLFLOW_TRACKING_URI: 'databricks', DATABRICKS_CONFIG_FILE: other } });
    assert.deepEqual(profileOf(config), { host: 'https://elsewhere.cloud.databricks.com', profile: 'DEFAULT (default)' });
    assert.deepEqual(config.entries.find((e) => e.key === 'databricksHost')?.source, {
      kind: 'databrickscfg',
      path: other,
      profile: 'DEFAULT',
      key: 'host',
    });

    const error = await project.loadError({
      env: {
        ...EXPERIMENT,
        MLFLOW_TRACKING_URI: 'databricks',
        DATABRICKS_TOKEN: 'x',
        DATABRICKS_HOST: 'h.cloud.databricks.com',
        DATABRICKS_CONFIG_FILE: '~/missing.cfg',
      },
    });
    assert.deepEqual(error.problems, [
      { message: `Databricks config file ${project.home}/missing.cfg does not exist`, source: 'env DATABRICKS_CONFIG_FILE' },
    ]);
  });

  it('is not used for a self-hosted MLflow', async () => {
    const config = await project.load({ env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' } });
    assert.equal(config.files.databricksCfg, undefined);
    assert.deepEqual(
      config.entries.filter((e) => e.source.kind === 'databrickscfg'),
      [],
    );
    assert.deepEqual(config.auth, { kind: 'none' });
  });

  it('is not needed when the environment has everything', async () => {
    const bare = createTempProject();
    try {
      const config = await bare.load({
        env: {
          ...EXPERIMENT,
          MLFLOW_TRACKING_URI: 'databricks',
          DATABRICKS_HOST: 'https://h.cloud.databricks.com',
          DATABRICKS_TOKEN: 'dapi-env',
        },
      });
      assert.equal(config.files.databricksCfg, undefined);
      assert.equal(config.auth.kind, 'databricks-pat');
    } finally {
      await bare.remove();
    }
  });
});

describe('databrickscfg parsing', () => {
  it('reads sections, = and : pairs, comments and continuation lines; keys lower-cased, no DEFAULT inheritance', () => {
    const { profiles, badLines } = parseDatabricksCfg('# c\n[DEFAULT]\nHost = a\n[p]\ntoken: t\n  continued\n; c\n');
    assert.deepEqual(badLines, []);
    assert.deepEqual(Object.fromEntries(profiles.get('DEFAULT')!), { host: 'a' });
    assert.deepEqual(Object.fromEntries(profiles.get('p')!), { token: 't\ncontinued' });
  });

  it('reports lines outside a section, without a key, and repeated sections', () => {
    assert.deepEqual(parseDatabricksCfg('stray = 1\n[a]\nnot a pair\n[a]\n').badLines, [1, 3, 4]);
  });
});
