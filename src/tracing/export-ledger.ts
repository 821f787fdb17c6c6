/** What happened to each trace handed to an exporter, so shutdown can say how many landed and why others did not. */
export type ExportRoute = 'otlp' | 'rest' | 'uc' | 'collector' | 'local';

export interface TraceExportRecord {
  traceId: string;
  route: ExportRoute;
  ok: boolean;
  spanCount: number;
  /** HTTP status of the refusing answer, when there was one. */
  status?: number;
  /** The server's reason (or the network error), for failures. */
  reason?: string;
}

export interface ExportReport {
  exported: number;
  failed: number;
  /** Traces still buffered or in flight when the flush deadline passed. */
  pending: number;
  failures: TraceExportRecord[];
}

export class ExportLedger {
  readonly #records: TraceExportRecord[] = [];
  readonly #listeners = new Set<(record: TraceExportRecord) => void>();

  record(entry: TraceExportRecord): void {
    this.#records.push(entry);
    for (const listener of this.#listeners) listener(entry);
  }

  /** For long-running processes (serve) that report each failure as it happens. */
  onRecord(listener: (record: TraceExportRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get records(): readonly TraceExportRecord[] {
    return this.#records;
  }

  find(traceId: string): TraceExportRecord | undefined {
    return this.#records.findLast((r) => r.traceId === traceId);
  }

  report(pending = 0): ExportReport {
    const failures = this.#records.filter((r) => !r.ok);
    return { exported: this.#records.length - failures.length, failed: failures.length, pending, failures };
  }
}
