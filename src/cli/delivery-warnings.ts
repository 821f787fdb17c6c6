import type { PipelineEvent } from '../pipeline/trace-pipeline.ts';
import { commandLine } from '../invocation.ts';

/**
 * One line per distinct delivery problem, so a broken destination or disk is visible without flooding
 * the log; a recovery is said once too. Nothing is lost here: what is not delivered waits on disk.
 */
export function deliveryWarnings(warn: (line: string) => void): (event: PipelineEvent) => void {
  const seen = new Set<string>();
  let failing = false;
  const once = (answer: string, line: string) => {
    if (seen.has(answer)) return;
    seen.add(answer);
    warn(line);
  };
  return (event) => {
    switch (event.kind) {
      case 'delivered':
        if (failing && event.items > 0) warn(`${event.queue}: the destination answers again; delivering what waited on disk`);
        failing = false;
        if (event.note) once(event.note, `note: ${event.note}`);
        return;
      case 'retry':
        failing = true;
        once(
          event.answer,
          `warning: ${event.queue} not delivered yet (${event.answer}); they wait on disk and are retried (same failures are not printed again)`,
        );
        return;
      case 'dead':
        once(
          event.answer,
          `warning: ${event.label} was refused: ${event.answer}; kept as a dead letter (\`${commandLine('traces list --status dead')}\`; same refusals are counted, not printed)`,
        );
        return;
      case 'store-refused':
        warn(`warning: ${event.traces} trace(s) not stored: ${event.reason}`);
        return;
      case 'store-failing':
        warn(
          `warning: ${event.reason}; new requests are turned away (503) and what arrived waits in memory until the store can be written again`,
        );
        return;
      case 'store-recovered':
        warn('traces: the store can be written again; taking requests');
        return;
      case 'store-near-cap':
        warn(
          `warning: the trace store holds ${Math.round(event.bytes / 1024 ** 2)} MB of its ${Math.round(event.maxBytes / 1024 ** 2)} MB cap; delivered traces will give way first (OTEL_MLFLOW_STORE_MAX_MB raises it, \`${commandLine('traces prune')}\` frees it)`,
        );
        return;
    }
  };
}
