import type { PipelineEvent } from '../pipeline/trace-pipeline.ts';
import { commandLine } from '../util/invocation.ts';

/**
 * One line per distinct delivery problem, so a broken destination is visible without flooding the
 * log; a recovery is said once too. Traces are never lost here: they wait on disk.
 */
export function deliveryWarnings(warn: (line: string) => void): (event: PipelineEvent) => void {
  const seen = new Set<string>();
  let failing = false;
  return (event) => {
    switch (event.kind) {
      case 'delivered':
        if (failing) warn(`traces: the destination answers again; delivering what waited on disk`);
        failing = false;
        return;
      case 'retry':
        failing = true;
        if (!seen.has(event.answer)) {
          seen.add(event.answer);
          warn(`warning: traces not delivered yet (${event.answer}); they wait on disk and are retried (same failures are not printed again)`);
        }
        return;
      case 'dead':
        if (!seen.has(event.answer)) {
          seen.add(event.answer);
          warn(`warning: trace ${event.traceId} was refused: ${event.answer}; kept as a dead letter (\`${commandLine('traces list --status dead')}\`; same refusals are counted, not printed)`);
        }
        return;
      case 'after-delivery-failed':
        if (!seen.has(event.answer)) {
          seen.add(event.answer);
          warn(`warning: ${event.answer}`);
        }
        return;
      case 'store-refused':
        warn(`warning: ${event.traces} trace(s) not stored: ${event.reason}`);
        return;
      case 'store-near-cap':
        warn(`warning: the trace store holds ${Math.round(event.bytes / 1024 ** 2)} MB of its ${Math.round(event.maxBytes / 1024 ** 2)} MB cap; delivered traces will give way first (OTEL_MLFLOW_STORE_MAX_MB raises it, \`${commandLine('traces prune')}\` frees it)`);
        return;
    }
  };
}
