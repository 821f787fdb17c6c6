import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { ExportLedger } from '../tracing/export-ledger.ts';
import { PerTraceExporter } from '../tracing/per-trace-exporter.ts';
import { mlflowTraceId } from '../tracing/trace-id.ts';
import { LocalTraceStore } from './local-trace-store.ts';

/** The exporter of local-only mode: each trace goes to a file in the store, recorded in the ledger like a send. */
export class LocalStoreExporter extends PerTraceExporter {
  readonly #store: LocalTraceStore;
  readonly #ledger: ExportLedger;

  constructor(options: { dir: string; ledger: ExportLedger }) {
    super();
    this.#store = new LocalTraceStore(options.dir);
    this.#ledger = options.ledger;
  }

  protected async exportTrace(spans: ReadableSpan[]): Promise<boolean> {
    const traceId = mlflowTraceId(spans[0]!.spanContext().traceId);
    try {
      await this.#store.save(spans);
      this.#ledger.record({ traceId, route: 'local', ok: true, spanCount: spans.length });
      return true;
    } catch (error) {
      const reason = `writing to ${this.#store.dir} failed: ${error instanceof Error ? error.message : String(error)}`;
      this.#ledger.record({ traceId, route: 'local', ok: false, spanCount: spans.length, reason });
      return false;
    }
  }
}
