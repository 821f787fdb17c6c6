import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { LocalStoreExporter } from '../../src/local-store/local-store-exporter.ts';
import { LocalTraceStore } from '../../src/local-store/local-trace-store.ts';
import { ExportLedger } from '../../src/tracing/export-ledger.ts';
import { TraceGroupingProcessor } from '../../src/tracing/trace-grouping-processor.ts';
import { chatTrace } from '../tracing/span-fixtures.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-exporter-'));
});
after(() => rm(root, { recursive: true, force: true }));

/** Real spans through the processor the bootstrap uses. */
async function exportChatTraces(dir: string, count: number): Promise<ExportLedger> {
  const ledger = new ExportLedger();
  const processor = new TraceGroupingProcessor(new LocalStoreExporter({ dir, ledger }));
  const tracer = new TracerProvider({ spanProcessors: [processor] }).getTracer('test');
  for (let i = 0; i < count; i++) chatTrace(tracer);
  await processor.forceFlush();
  return ledger;
}

describe('LocalStoreExporter', () => {
  it('stores each trace and records it in the ledger with route local', async () => {
    const dir = join(root, 'ok');
    const ledger = await exportChatTraces(dir, 2);
    assert.deepEqual(ledger.report(), { exported: 2, failed: 0, pending: 0, failures: [] });
    assert.deepEqual(new Set(ledger.records.map((r) => r.route)), new Set(['local']));
    const stored = await new LocalTraceStore(dir).list();
    assert.deepEqual(stored.map((s) => s.traceId).sort(), ledger.records.map((r) => r.traceId).sort());
    assert.ok(stored.every((s) => s.spanCount === 3));
  });

  it('records a trace it cannot write as failed, with the reason', async () => {
    const blocked = join(root, 'a-file');
    await writeFile(blocked, 'not a directory');
    const ledger = await exportChatTraces(join(blocked, 'traces'), 1);
    const [failure] = ledger.report().failures;
    assert.equal(failure?.route, 'local');
    assert.match(failure.reason ?? '', /writing to .*a-file\/traces failed/);
  });
});
