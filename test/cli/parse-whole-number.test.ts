import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atLeastOne, parsePort, wholeNumberIn } from '../../src/cli/parse-whole-number.ts';

describe('numeric options', () => {
  it('take decimal digits within their range, spaces around them aside', () => {
    assert.equal(parsePort('0', '--port'), 0);
    assert.equal(parsePort(' 8080 ', '--port'), 8080);
    assert.equal(wholeNumberIn(0, 3600)('3600', '--deliver-timeout'), 3600);
    assert.equal(atLeastOne('20', '--limit'), 20);
  });

  it('refuse an empty value (an unset variable) instead of taking it for 0, and what Number() alone would take', () => {
    for (const text of ['', '  ', '0x10', '1e3', '8080.0', '-1', '+5', 'abc']) {
      assert.throws(() => parsePort(text, '--port'), { message: `--port must be a whole number from 0 to 65535 (got '${text}')` });
      assert.throws(() => atLeastOne(text, '--limit'), { message: `--limit must be a whole number of at least 1 (got '${text}')` });
    }
  });

  it('refuse a number outside the range, naming the flag', () => {
    assert.throws(() => parsePort('65536', 'PORT'), { message: "PORT must be a whole number from 0 to 65535 (got '65536')" });
    assert.throws(() => atLeastOne('0', '--limit'), /at least 1/);
  });
});
