import type { DeliveryInfo } from '../pipeline/store/stored-trace.ts';
import type { PipelineReport } from '../pipeline/trace-pipeline.ts';
import type { Tracing } from './start-tracing.ts';
import { commandLine } from '../invocation.ts';

export interface TraceExportStatus {
  exported: boolean;
  /** Why not: the server's answer, the network error, and where the trace waits. */
  reason?: string;
  /** The HTTP status of the last refusal, when there was one. */
  status?: number;
  /** Not delivered yet, but waiting on disk for the destination (rather than refused). */
  waiting?: boolean;
}

/**
 * Stores and delivers within the deadline, then says what became of each trace (by its `tr-` id);
 * undefined when OpenTelemetry is disabled and there are no traces to report on.
 */
export async function flushAndReport(
  tracing: Tracing,
  traceIds: readonly string[],
  deadlineMs: number,
): Promise<TraceExportStatus[] | undefined> {
  const report = await tracing.flush(deadlineMs);
  const pipeline = tracing.pipeline;
  if (!pipeline) return undefined;
  return traceIds.map((traceId) => traceExportStatus(pipeline.deliveryOf(traceId.replace(/^tr-/, '')), report));
}

/** What became of one trace after the flush: kept or delivered, waiting on disk, or refused. */
export function traceExportStatus(delivery: DeliveryInfo | undefined, report: PipelineReport | undefined): TraceExportStatus {
  if (!report) return { exported: false, reason: 'OpenTelemetry is disabled (OTEL_SDK_DISABLED), so no trace was recorded' };
  if (!delivery) return { exported: false, reason: report.refusedReason ?? `it was not written to ${report.storeDir}` };
  switch (delivery.state) {
    case 'local':
    case 'delivered':
      return { exported: true };
    case 'pending':
      return {
        exported: false,
        waiting: true,
        ...(delivery.lastStatus !== undefined && { status: delivery.lastStatus }),
        reason: `${delivery.lastAnswer ?? 'it was not delivered in this run'}; it waits in ${report.storeDir} and is sent by the next run or \`${commandLine('traces push')}\``,
      };
    case 'dead':
      return {
        exported: false,
        reason: `${delivery.lastAnswer ?? 'refused'} (kept in ${report.storeDir} as a dead letter)`,
        ...(delivery.lastStatus !== undefined && { status: delivery.lastStatus }),
      };
  }
}
