import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runPool } from '../../src/util/worker-pool.ts';

describe('runPool', () => {
  it('never has more than `concurrency` in flight, and returns results in item order', async () => {
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const results = await runPool([30, 5, 20, 1, 10, 2, 8], 3, async (ms, i) => {
      started.push(i);
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, ms));
      inFlight--;
      return ms * 2;
    });
    assert.equal(most, 3);
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(results, [60, 10, 40, 2, 20, 4, 16]);
  });

  it('handles no items, and fewer items than workers', async () => {
    assert.deepEqual(await runPool([], 4, async () => 1), []);
    assert.deepEqual(await runPool(['a'], 4, async (x) => x.toUpperCase()), ['A']);
  });
});
