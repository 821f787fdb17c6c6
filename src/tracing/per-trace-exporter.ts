import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { groupByTrace } from './send-trace.ts';

/**
 * A SpanExporter that sends each trace of a batch on its own and records its outcome itself
 * (in the ledger), whichever processor hands it spans.
 */
export abstract class PerTraceExporter implements SpanExporter {
  /** Sends one trace's spans; true when the server accepted it. Never throws. */
  protected abstract exportTrace(spans: ReadableSpan[]): Promise<boolean>;

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    Promise.all([...groupByTrace(spans).values()].map((trace) => this.exportTrace(trace))).then(
      (outcomes) =>
        resultCallback(
          outcomes.every(Boolean)
            ? { code: ExportResultCode.SUCCESS }
            : { code: ExportResultCode.FAILED, error: new Error('some traces were refused') },
        ),
      (error: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: error as Error }),
    );
  }

  async shutdown(): Promise<void> {}
}
