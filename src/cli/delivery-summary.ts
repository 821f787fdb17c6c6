import type { ChalkInstance } from 'chalk';
import type { PipelineReport } from '../pipeline/trace-pipeline.ts';
import { commandLine } from '../invocation.ts';
import type { RunningRelay } from '../relay/start-relay.ts';

type ClosedRelay = Pick<Awaited<ReturnType<RunningRelay['close']>>, 'report' | 'traces' | 'destinations'>;

export interface DeliverySummary {
  /** The closing line: `traces: 20412 delivered, 886 pending in … (…); they are sent by …`. */
  line: string;
  /** Traces that will not reach the destination without a person acting (refused, or not stored). */
  lost: boolean;
  /** Traces still waiting on disk for the destination. */
  pending: boolean;
}

/**
 * What became of a run's traces, in one line every command ends with, so a person always knows
 * which traces are in MLflow, which wait on disk (and why), and which need them.
 */
export function summarizeDelivery(
  report: (PipelineReport & { unresolved?: string; interruptedBy?: NodeJS.Signals }) | undefined,
): DeliverySummary {
  if (!report) return { line: 'traces: none (OpenTelemetry is disabled by OTEL_SDK_DISABLED)', lost: false, pending: false };
  const parts: string[] = [];
  if (!report.destination) {
    parts.push(`${report.stored} kept in the local store ${report.storeDir}`);
  } else {
    parts.push(`${report.delivered} delivered`);
    if (report.pending > 0) {
      // A destination that answered badly says so; one never reached says why it was not; and a person who stopped the wait, that they did.
      const reasons = [
        report.lastFailure ? `${report.destination} answered: ${report.lastFailure.answer}` : report.unresolved,
        report.interruptedBy && `delivery stopped by ${report.interruptedBy}`,
      ].filter(Boolean);
      const why = reasons.length > 0 ? ` (${reasons.join('; ')})` : '';
      parts.push(
        `${report.pending} pending in ${report.storeDir}${why}; they are sent by the next otel-mlflow run with this destination or \`${commandLine('traces push')}\``,
      );
    }
    if (report.dead > 0) {
      parts.push(`${report.dead} refused by the destination (kept as dead letters: \`${commandLine('traces list --status dead')}\`)`);
    }
  }
  if (report.refused > 0) parts.push(`${report.refused} not stored: ${report.refusedReason ?? 'the store refused them'}`);
  return { line: `traces: ${parts.join(', ')}`, lost: report.dead > 0 || report.refused > 0, pending: report.pending > 0 };
}

/**
 * What a closed receiver's traces came to (the relay's, or run's), for the closing line: by the
 * destinations its routes found, whoever stored them. What its full store turned away was answered
 * 503, for the senders to send again or keep, so it is not counted as refused here.
 */
export function receivedDelivery({ report, traces, destinations }: ClosedRelay): PipelineReport {
  const { refusedReason: _, ...stored } = report;
  return {
    ...stored,
    refused: 0,
    ...(destinations.length > 0 && { destination: destinations.map((route) => route.description).join('; ') }),
    pending: traces.pending,
  };
}

/** The closing line as a terminal shows it: red when traces are lost, yellow while some wait. */
export function paintedSummary(paint: ChalkInstance, summary: DeliverySummary): string {
  return summary.lost ? paint.red(summary.line) : summary.pending ? paint.yellow(summary.line) : summary.line;
}
