import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { passRate } from '../../src/commands/suite/parse-pass-rate.ts';
import { ExitCode, ExpectedError } from '../../src/errors.ts';

describe('--min-pass-rate', () => {
  it('takes a fraction from 0 to 1 or a percentage', () => {
    assert.deepEqual(
      ['1', '0.9', '0', '90%', '100%', '0%', ' 87.5% ', 1].map((v) => passRate(v, '--min-pass-rate')),
      [1, 0.9, 0, 0.9, 1, 0, 0.875, 1],
    );
  });

  it('refuses anything else with a usage error that shows both forms', () => {
    for (const value of ['', '%', '1.5', '-0.1', '120%', 'most', '90 %%']) {
      assert.throws(
        () => passRate(value, '--min-pass-rate'),
        (error: unknown) =>
          error instanceof ExpectedError &&
          error.exitCode === ExitCode.usage &&
          error.message === `--min-pass-rate must be a fraction from 0 to 1 or a percentage (got '${value}')` &&
          /--min-pass-rate 0\.9 or --min-pass-rate 90%/.test(error.hint ?? ''),
        value,
      );
    }
  });
});
