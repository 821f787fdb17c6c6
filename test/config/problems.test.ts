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
    assert.match(error.hint ?? '', /^fix the values listed above where they are set; `otel-mlflow config` shows every value/);
  });

  it('one problem is on the error line itself, and the hint speaks of it, not of "values above"', async () => {
    await project.write('.env', '');
    await project.write('.otel-mlflowrc.yaml', '');
    const error = await project.loadError({ env: { MLFLOW_TRACKING_URI: 'localhost:5000' } });
    assert.match(
      error.message,
      /^Invalid configuration: MLFLOW_TRACKING_URI has no scheme, .* use http:\/\/localhost:5000 \(from env MLFLOW_TRACKING_URI\)$/,
    );
    assert.doesNotMatch(error.hint ?? '', /above/);
    assert.match(error.hint ?? '', /^fix that value where it is set; `otel-mlflow config` shows every value and where it was set$/);
  });

  it('an empty flag is refused, not taken for "use the default" as an empty variable is', async () => {
    await project.write('.env', '');
    await project.write('.otel-mlflowrc.yaml', '');
    const error = await project.loadError({ env: { MLFLOW_EXPERIMENT_NAME: '' }, flags: { experiment: '' } });
    assert.deepEqual(error.problems, [{ message: '--experiment is empty: give it a value, or leave it out', source: 'flag --experiment' }]);
    const config = await project.load({ env: { MLFLOW_EXPERIMENT_NAME: '' } });
    assert.equal(config.experiment.kind === 'name' && config.experiment.name.source.kind, 'default', 'an empty variable is unset');
  });

  it('blanks alone are empty: a variable of spaces is unset, a flag of spaces is refused', async () => {
    await project.write('.env', '');
    await project.write('.otel-mlflowrc.yaml', '');
    const config = await project.load({ env: { MLFLOW_TRACKING_URI: '   ', MLFLOW_EXPERIMENT_NAME: ' ' } });
    assert.equal(config.destination.kind, 'local', 'no tracking URI: the traces stay local');
    assert.equal(config.experiment.kind === 'name' && config.experiment.name.source.kind, 'default');
    const error = await project.loadError({ flags: { trackingUri: '  ' } });
    assert.deepEqual(error.problems, [
      { message: '--tracking-uri is empty: give it a value, or leave it out', source: 'flag --tracking-uri' },
    ]);
  });
});
