import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceSource } from '../../../src/read-back/trace-source.ts';
import { verifyTraces, type ReadBackFrom } from '../../../src/commands/suite/verify-traces.ts';

/** A source whose traces appear after a number of reads, in the states given. */
function scriptedSource(script: Record<string, (string | undefined)[]>): ReadBackFrom & { reads: Map<string, number> } {
  const reads = new Map<string, number>();
  const source: TraceSource = {
    name: 'MLflow',
    async info(traceId) {
      const n = reads.get(traceId) ?? 0;
      reads.set(traceId, n + 1);
      const states = script[traceId] ?? [];
      const state = states[Math.min(n, states.length - 1)];
      if (state === 'throw') throw new Error('HTTP 503');
      return state === undefined ? undefined : { traceId, state, requestTime: '', metadata: {}, tags: {} };
    },
    spans: async () => undefined,
  };
  return { kind: 'mlflow', source, reads };
}

describe('verifyTraces', () => {
  it('waits for each trace to appear and finish, and reports the state it ended in', async () => {
    const from = scriptedSource({ a: [undefined, 'IN_PROGRESS', 'OK'], b: ['ERROR'] });
    const report = await verifyTraces(['a', 'b'], from, { deadlineMs: 5_000 });
    assert.deepEqual(report, {
      source: 'mlflow',
      where: 'MLflow',
      found: 2,
      missing: 0,
      traces: [
        { traceId: 'a', found: true, state: 'OK' },
        { traceId: 'b', found: true, state: 'ERROR' },
      ],
    });
    assert.equal(from.reads.get('a'), 3);
  });

  it('gives up at the deadline, saying why each trace does not count and where it was looked for', async () => {
    let clock = 0;
    const now = () => (clock += 400);
    const from = scriptedSource({ gone: [undefined], stuck: ['IN_PROGRESS'], broken: ['throw'] });
    const report = await verifyTraces(['gone', 'stuck', 'broken'], from, { deadlineMs: 1_000, now });
    assert.equal(report.found, 0);
    assert.equal(report.missing, 3);
    assert.deepEqual(
      report.traces.map((t) => [t.traceId, t.found, t.problem]),
      [
        ['gone', false, 'not found in MLflow within 1 s'],
        ['stuck', false, 'still IN_PROGRESS after 1 s'],
        ['broken', false, 'reading it back failed: HTTP 503'],
      ],
    );
  });
});
