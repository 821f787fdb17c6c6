import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ExportLedger } from './export-ledger.ts';
import { groupByTrace } from './send-trace.ts';
import { mlflowTraceId } from './trace-id.ts';

/** Wraps a stock OTLP exporter (a collector) so its outcomes land in the ledger like MLflow's do. */
export class RecordingExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #ledger: ExportLedger;

  constructor(inner: SpanExporter, ledger: ExportLedger) {
    this.#inner = inner;
    this.#ledger = ledger;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      const error = result.error as (Error & { code?: number; data?: string }) | undefined;
      for (const [traceId, group] of groupByTrace(spans)) {
        this.#ledger.record({
          traceId: mlflowTraceId(traceId),
          route: 'collector',
          spanCount: group.length,
          ok: result.code === ExportResultCode.SUCCESS,
          ...(error?.code !== undefined && { status: error.code }),
          ...(error && { reason: [error.message, error.data].filter(Boolean).join(': ') }),
        });
      }
      resultCallback(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}
