import { pollUntil } from '../../read-back/poll-until.ts';
import type { TraceSource } from '../../read-back/trace-source.ts';
import { runPool } from '../../util/worker-pool.ts';
import { errorMessage } from '../../errors.ts';

/** How long, from the start of the read-back, every trace has to appear and finish. */
const VERIFY_DEADLINE_MS = 30_000;
const VERIFY_CONCURRENCY = 4;

interface TraceCheck {
  traceId: string;
  found: boolean;
  state: string | null;
  /** Why it does not count as landed. */
  problem?: string;
}

export interface VerifyReport {
  source: 'mlflow' | 'local';
  /** Where the traces were looked for, e.g. 'MLflow', 'the local store /home/me/.local/state/otel-mlflow/traces'. */
  where: string;
  found: number;
  missing: number;
  traces: TraceCheck[];
}

/** Where `--verify` reads the traces back from. */
export interface ReadBackFrom {
  kind: 'mlflow' | 'local';
  source: TraceSource;
}

type Read = { state?: string; error?: unknown };

/**
 * Reads every trace back, polling until it is there and no longer in progress, or the deadline
 * passes, and says for each one that does not count why, naming where it was looked for.
 */
export async function verifyTraces(
  traceIds: readonly string[],
  { kind, source }: ReadBackFrom,
  options: { deadlineMs?: number; now?: () => number } = {},
): Promise<VerifyReport> {
  const now = options.now ?? Date.now;
  const deadlineMs = options.deadlineMs ?? VERIFY_DEADLINE_MS;
  const deadline = now() + deadlineMs;
  const read = async (traceId: string): Promise<Read> => {
    try {
      const info = await source.info(traceId);
      return info ? { state: info.state } : {};
    } catch (error) {
      return { error };
    }
  };
  const traces = await runPool(traceIds, VERIFY_CONCURRENCY, async (traceId): Promise<TraceCheck> => {
    const last = await pollUntil(
      () => read(traceId),
      (r) => r.state !== undefined && r.state !== 'IN_PROGRESS',
      deadline,
      now,
    );
    if (last.state !== undefined && last.state !== 'IN_PROGRESS') return { traceId, found: true, state: last.state };
    const problem =
      last.error !== undefined
        ? `reading it back failed: ${errorMessage(last.error)}`
        : last.state
          ? `still ${last.state} after ${deadlineMs / 1000} s`
          : `not found in ${source.name} within ${deadlineMs / 1000} s`;
    return { traceId, found: false, state: null, problem };
  });
  const found = traces.filter((t) => t.found).length;
  return { source: kind, where: source.name, found, missing: traces.length - found, traces };
}
