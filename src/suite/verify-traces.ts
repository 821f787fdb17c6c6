import { setTimeout as delay } from 'node:timers/promises';
import type { MlflowHttp } from '../mlflow/http.ts';
import { summarizeTrace } from '../pipeline/store/summarize-trace.ts';
import type { TraceStore } from '../pipeline/store/trace-store.ts';
import { getTraceInfo } from '../mlflow/traces.ts';
import { runPool } from '../util/worker-pool.ts';

/** How long, from the start of the read-back, every trace has to appear and finish. */
export const VERIFY_DEADLINE_MS = 30_000;
const POLL_INTERVALS_MS = [100, 250, 500, 1000] as const;
const VERIFY_CONCURRENCY = 4;

/** Where the traces are read back from. */
export interface TraceLookup {
  source: 'mlflow' | 'local';
  /** `state` is MLflow's (OK, ERROR, IN_PROGRESS); undefined when the trace is not there (yet). */
  find(traceId: string): Promise<{ state: string } | undefined>;
}

export interface TraceCheck {
  traceId: string;
  found: boolean;
  state: string | null;
  /** Why it does not count as landed. */
  problem?: string;
}

export interface VerifyReport {
  source: 'mlflow' | 'local';
  found: number;
  missing: number;
  traces: TraceCheck[];
}

export function mlflowLookup(http: MlflowHttp): TraceLookup {
  return { source: 'mlflow', find: async (traceId) => getTraceInfo(http, traceId) };
}

export function localLookup(store: Pick<TraceStore, 'get'>): TraceLookup {
  return {
    source: 'local',
    async find(traceId) {
      const trace = store.get(traceId);
      return trace && { state: summarizeTrace(trace).status };
    },
  };
}

/**
 * Reads every trace back, polling until it is there and no longer in progress, or the deadline
 * passes: a trace the server has not finished ingesting is not yet proof that it landed.
 */
export async function verifyTraces(
  traceIds: readonly string[],
  lookup: TraceLookup,
  options: { deadlineMs?: number; now?: () => number } = {},
): Promise<VerifyReport> {
  const now = options.now ?? Date.now;
  const deadline = now() + (options.deadlineMs ?? VERIFY_DEADLINE_MS);
  const traces = await runPool(traceIds, VERIFY_CONCURRENCY, async (traceId): Promise<TraceCheck> => {
    let problem = 'not found before the deadline';
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await lookup.find(traceId);
        if (info && info.state !== 'IN_PROGRESS') return { traceId, found: true, state: info.state };
        if (info) problem = `still ${info.state} at the deadline`;
      } catch (error) {
        problem = `reading it back failed: ${error instanceof Error ? error.message : String(error)}`;
      }
      const wait = POLL_INTERVALS_MS[Math.min(attempt, POLL_INTERVALS_MS.length - 1)]!;
      if (now() + wait > deadline) return { traceId, found: false, state: null, problem };
      await delay(wait);
    }
  });
  const found = traces.filter((t) => t.found).length;
  return { source: lookup.source, found, missing: traces.length - found, traces };
}
