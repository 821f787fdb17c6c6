import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWhen } from '../../src/commands/traces/parse-when.ts';
import { ExitCode, ExpectedError } from '../../src/errors.ts';

const NOW = new Date('2026-03-15T12:00:00Z');

describe('parseWhen', () => {
  it('reads a duration as that long before now', () => {
    assert.equal(parseWhen('30m', NOW).toISOString(), '2026-03-15T11:30:00.000Z');
    assert.equal(parseWhen('2h', NOW).toISOString(), '2026-03-15T10:00:00.000Z');
    assert.equal(parseWhen('7d', NOW).toISOString(), '2026-03-08T12:00:00.000Z');
    assert.equal(parseWhen('2w', NOW).toISOString(), '2026-03-01T12:00:00.000Z');
    assert.equal(parseWhen('0m', NOW).toISOString(), NOW.toISOString());
  });

  it('reads an ISO date, a bare day meaning local midnight', () => {
    assert.equal(parseWhen('2026-01-31T08:15:00Z', NOW).toISOString(), '2026-01-31T08:15:00.000Z');
    const day = parseWhen('2026-01-31', NOW);
    assert.deepEqual([day.getFullYear(), day.getMonth(), day.getDate(), day.getHours()], [2026, 0, 31, 0]);
  });

  it('refuses anything else with a usage error that shows the accepted forms', () => {
    for (const text of ['yesterday', '30', '5y', '2026-13-45', '']) {
      assert.throws(
        () => parseWhen(text, NOW),
        (error: unknown) => error instanceof ExpectedError && error.exitCode === ExitCode.usage && /30m, 2h, 7d, 2w/.test(error.message),
        text,
      );
    }
  });
});
