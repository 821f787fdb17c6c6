import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyTraces, type TraceLookup } from '../../src/suite/verify-traces.ts';

/** A lookup whose traces appear after a number of reads, in the states given. */
function scriptedLookup(script: Record<string, (string | undefined)[]>): TraceLookup & { reads: Map<string, number> } {
  const reads = new Map<string, number>();
  return {
    source: 'mlflow',
    reads,
    async find(traceId) {
      const n = reads.get(traceId) ?? 0;
      reads.set(traceId, n + 1);
      const states = script[traceId] ?? [];
      const state = states[Math.min(n, states.length - 1)];
      if (state === 'throw') throw new Error('HTTP 503');
      return state === undefined ? undefined : { state };
    },
  };
}

describe('verifyTraces', () => {
  it('waits for each trace to appear and finish, and reports the state it ended in', async () => {
    const lookup = scriptedLookup({ a: [undefined, 'IN_PROGRESS', 'OK'], b: ['ERROR'] });
    const report = await verifyTraces(['a', 'b'], lookup, { deadlineMs: 5_000 });
    assert.deepEqual(report, {
      source: 'mlflow',
      found: 2,
      missing: 0,
      traces: [
        { traceId: 'a', found: true, state: 'OK' },
        { traceId: 'b', found: true, state: 'ERROR' },
      ],
    });
    assert.equal(lookup.reads.get('a'), 3);
  });

  it('gives up at the deadline, saying why each trace does not count', async () => {
    let clock = 0;
    const now = () => (clock += 400);
    const lookup = scriptedLookup({ gone: [undefined], stuck: ['IN_PROGRESS'], broken: ['throw'] });
    const report = await verifyTraces(['gone', 'stuck', 'broken'], lookup, { deadlineMs: 1_000, now });
    assert.equal(report.found, 0);
    assert.equal(report.missing, 3);
    assert.deepEqual(
      report.traces.map((t) => [t.traceId, t.found, t.problem]),
      [
        ['gone', false, 'not found before the deadline'],
        ['stuck', false, 'still IN_PROGRESS at the deadline'],
        ['broken', false, 'reading it back failed: HTTP 503'],
      ],
    );
  });
});
