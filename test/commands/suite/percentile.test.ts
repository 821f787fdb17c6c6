import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { percentile } from '../../../src/commands/suite/percentile.ts';

describe('percentile (nearest rank)', () => {
  it('is always a measured value, whatever the input order', () => {
    const values = [50, 10, 40, 20, 30];
    assert.equal(percentile(values, 50), 30);
    assert.equal(percentile(values, 95), 50);
    assert.equal(percentile(values, 20), 10);
    assert.equal(percentile(values, 100), 50);
  });

  it('puts p95 of twenty values on the nineteenth', () => {
    const values = Array.from({ length: 20 }, (_, i) => (i + 1) * 10);
    assert.equal(percentile(values, 95), 190);
    assert.equal(percentile(values, 50), 100);
  });

  it('has no value for no values, and the only one for one', () => {
    assert.equal(percentile([], 50), undefined);
    assert.equal(percentile([7], 95), 7);
  });

  it('refuses a percentile outside (0, 100]', () => {
    assert.throws(() => percentile([1], 0), RangeError);
    assert.throws(() => percentile([1], 101), RangeError);
  });
});
