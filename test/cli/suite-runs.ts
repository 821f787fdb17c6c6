import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { feedbackOf } from '../../src/mlflow/assessments.ts';
import { createMlflowHttp } from '../../src/mlflow/http.ts';
import type { FakeMlflow } from '../fakes/fake-mlflow.ts';
import type { StoredRun } from '../fakes/trace-store.ts';

/** A built-in question on /chat is scored by answered, mentions, latency and tokens. */
export const CHAT_SCORERS = 4;

const SUITE_TAG = 'otel-mlflow.suite';

/** Feedback on a trace as a client reads it back: `GET /api/3.0/mlflow/traces/{id}` → trace_info.assessments. */
export async function feedbackOnTrace(server: FakeMlflow, traceId: string) {
  const http = createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }) });
  const answer = await http.request<{ trace: { trace_info: { assessments?: unknown[] } } }>({
    method: 'GET',
    path: `/api/3.0/mlflow/traces/${traceId}`,
  });
  return feedbackOf(answer.trace.trace_info.assessments, traceId);
}

/** The runs `suite` made in the fake (tagged as suite runs). */
export function suiteRuns(server: FakeMlflow): StoredRun[] {
  return [...server.store.runs.values()].filter((run) => run.tags.get(SUITE_TAG) === 'true');
}

/** Each metric's latest value. */
export function latest(run: StoredRun): Record<string, number> {
  return Object.fromEntries([...run.metrics].map(([key, points]) => [key, points.at(-1)!.value]));
}
