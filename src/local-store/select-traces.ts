import { ExitCode, ExpectedError } from '../errors.ts';
import { summarizeTrace, type LocalTrace, type LocalTraceStore } from './local-trace-store.ts';
import { commandLine } from '../util/invocation.ts';

/** The ids asked for, else every stored trace (newer than --since), oldest first. */
export async function selectTraces(store: LocalTraceStore, ids: string[], since: Date | undefined): Promise<LocalTrace[]> {
  if (ids.length > 0) {
    const traces: LocalTrace[] = [];
    for (const id of ids) {
      const trace = await store.get(id);
      if (!trace) {
        throw new ExpectedError(`no stored trace matches '${id}' in ${store.dir}`, {
          exitCode: ExitCode.usage,
          hint: `run \`${commandLine('traces list')}\` to see the stored trace ids`,
        });
      }
      if (!since || Date.parse(summarizeTrace(trace).startTime) >= since.getTime()) traces.push(trace);
    }
    return traces;
  }
  const summaries = await store.list(since ? { since } : {});
  const traces: LocalTrace[] = [];
  for (const summary of summaries.reverse()) {
    const trace = await store.get(summary.traceId);
    if (trace) traces.push(trace);
  }
  return traces;
}
