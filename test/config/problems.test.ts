import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { useTempProject } from './temp-project.ts';

describe('invalid configuration', () => {
  const project = useTempProject();

  it('is reported as one ConfigError listing every problem with its source', async () => {
    const dotenv = await project.write('.env', 'MLFLOW_EXPERIMENT_ID=latest\nBROKEN="unterminated\n');
    const rc = await project.write('.otel-mlflowrc.yaml', 'otlpEncoding: xml\nserviceNam: typo\n');
    const error = await project.loadError({
      env: { MLFLOW_TRACKING_URI: 'sqlite:///mlflow.db', OTEL_RESOURCE_ATTRIBUTES: 'team' },
      flags: { exportPath: 'sideways', profile: 'missing' },
    });
    assert.equal(error.exitCode, ExitCode.config);
    assert.deepEqual(
      error.problems.map((p) => p.source),
      [
        undefined,
        `config file ${rc}`,
        'env MLFLOW_TRACKING_URI',
        `.env (${dotenv}) MLFLOW_EXPERIMENT_ID`,
        'flag --export-path',
        `config file ${rc} key otlpEncoding`,
        'env OTEL_RESOURCE_ATTRIBUTES',
        'flag --profile',
      ],
    );
    assert.match(error.problems[0]!.message, new RegExp(`^\\.env \\(${dotenv}\\) line 2 could not be parsed`));
    assert.match(error.problems[1]!.message, /^unknown key serviceNam; known keys: /);
    assert.match(error.problems[7]!.message, /^profile missing was asked for, but ~\/\.databrickscfg does not exist/);
    assert.match(error.message, /^Invalid configuration:\n {2}- /);
    assert.equal(error.message.split('\n  - ').length, 9);
  });
});
