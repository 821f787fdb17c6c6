import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { bestIngestRate, ingestCostFrom, REAL_MLFLOW_INGEST_COST, startCostlyMlflow } from './fakes/costly-mlflow.ts';
import { otlpProtobuf, readableSpan } from './fakes/readable-spans.ts';

const TRACE_HEX = '163a8080d544a5d7a1570cc417d69ac7';

describe('costly fake MLflow', () => {
  it('is calibrated to the measured rates of real MLflow 3.14 with one worker', () => {
    const { baseMs, perSpanMs } = REAL_MLFLOW_INGEST_COST;
    // 45 traces/s at one 2-span trace per request; 231/s at 200 per request.
    assert.ok(Math.abs(baseMs + 2 * perSpanMs - 1000 / 45) < 1e-9);
    assert.ok(Math.abs(baseMs + 400 * perSpanMs - 200_000 / 231) < 1e-9);
    assert.ok(baseMs > 0 && perSpanMs > 0);
  });

  it('puts the best rate at every trace in one request', () => {
    const cost = ingestCostFrom(
      { tracesPerRequest: 1, spansPerTrace: 1, tracesPerSecond: 50 },
      { tracesPerRequest: 10, spansPerTrace: 1, tracesPerSecond: 10_000 / 38 },
    );
    assert.ok(Math.abs(cost.baseMs - 18) < 1e-9 && Math.abs(cost.perSpanMs - 2) < 1e-9);
    assert.ok(Math.abs(bestIngestRate(cost, 100, 1) - 100_000 / 218) < 1e-9);
  });

  it('passes OTLP through to the fake it fronts and counts the spans, gzipped or not', async () => {
    const mlflow = await startCostlyMlflow({ version: '3.14.1.dev0', cost: { baseMs: 0, perSpanMs: 0 } });
    try {
      const spans = [
        readableSpan({ traceId: TRACE_HEX, spanId: 'aa00000000000001', name: 'root' }),
        readableSpan({ traceId: TRACE_HEX, spanId: 'aa00000000000002', parentSpanId: 'aa00000000000001', name: 'child' }),
      ];
      for (const gzip of [false, true]) {
        const response = await fetch(`${mlflow.url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf', 'x-mlflow-experiment-id': '0', ...(gzip && { 'content-encoding': 'gzip' }) },
          body: gzip ? gzipSync(otlpProtobuf(spans)) : otlpProtobuf(spans),
        });
        assert.equal(response.status, 200, await response.text());
      }
      assert.equal(mlflow.spans, 4);
      assert.equal(mlflow.fake.store.getTrace(`tr-${TRACE_HEX}`)?.spans.length, 2);
      assert.equal(await fetch(`${mlflow.url}/version`).then((r) => r.text()), '3.14.1.dev0');
    } finally {
      await mlflow.close();
    }
  });
});
