import type { TraceExportRecord } from '../tracing/export-ledger.ts';

export interface TraceExportStatus {
  exported: boolean;
  /** Why not: the server's answer, the network error, or the flush deadline. */
  reason?: string;
}

/**
 * What became of one trace after the flush. A trace can be sent in parts (spans ending after their
 * root go on their own), so it is exported only when every part was and at least one part went.
 */
export function traceExportStatus(records: readonly TraceExportRecord[], traceId: string, flushDeadlineMs: number): TraceExportStatus {
  const mine = records.filter((record) => record.traceId === traceId);
  const failed = mine.find((record) => !record.ok);
  if (failed) return { exported: false, reason: failed.reason ?? `HTTP ${failed.status}` };
  if (mine.length === 0) return { exported: false, reason: `still unsent when the ${flushDeadlineMs / 1000} s flush deadline passed` };
  return { exported: true };
}
