import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExpectedError } from '../../../src/errors.ts';
import { renderConfigFile, writeConfigFile, type ConfigFileValues } from '../../../src/commands/init/write-config-file.ts';
import { useTempProject } from '../../config/temp-project.ts';

describe('the config file init writes', () => {
  const project = useTempProject();

  it('holds the settings as JSON, in the option table order', () => {
    const text = renderConfigFile({ llmProvider: 'offline', experimentName: 'demo', trackingUri: 'http://127.0.0.1:5000' });
    assert.equal(text, '{\n  "trackingUri": "http://127.0.0.1:5000",\n  "experimentName": "demo",\n  "llmProvider": "offline"\n}\n');
  });

  it('refuses secrets and unknown keys, and never names the value', () => {
    for (const key of ['databricksToken', 'openaiApiKey', 'mlflowPassword', 'authToken', 'trackingUrl']) {
      assert.throws(
        () => renderConfigFile({ [key]: 'secret-value-123' } as ConfigFileValues),
        (error: unknown) => error instanceof Error && error.message.includes(key) && !error.message.includes('secret-value-123'),
        key,
      );
    }
  });

  it('refuses a value the loader would reject', () => {
    assert.throws(() => renderConfigFile({ llmProvider: 'cohere' }), /llmProvider/);
  });

  it('is picked up by the loader from the same directory', async () => {
    const path = join(project.cwd, '.otel-mlflowrc.json');
    await writeConfigFile(
      path,
      { trackingUri: 'databricks', databricksHost: 'https://x.cloud.databricks.com', experimentName: '/Shared/demo' },
      { overwrite: true },
    );
    const config = await project.load({ env: { DATABRICKS_TOKEN: 'dapi-1' } });
    assert.equal(config.files.configFile, path);
    assert.equal(config.destination.kind, 'databricks');
    assert.deepEqual(config.experiment, {
      kind: 'name',
      name: { value: '/Shared/demo', source: { kind: 'file', path, key: 'experimentName' } },
    });
  });

  it('does not replace an existing file unless told to', async () => {
    const path = join(project.cwd, 'existing.json');
    await writeFile(path, '{"experimentName":"mine"}\n');
    await assert.rejects(writeConfigFile(path, { experimentName: 'theirs' }, { overwrite: false }), (error: unknown) => {
      return (
        error instanceof ExpectedError && error.exitCode === 2 && /already exists/.test(error.message) && /--force/.test(error.hint ?? '')
      );
    });
    assert.equal(await readFile(path, 'utf8'), '{"experimentName":"mine"}\n');
    await writeConfigFile(path, { experimentName: 'theirs' }, { overwrite: true });
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), { experimentName: 'theirs' });
  });
});
