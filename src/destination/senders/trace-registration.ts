import type { RawResponse } from '../../http-client/send.ts';
import type { MlflowHttp } from '../../mlflow/http.ts';
import { classifyAnswer, classifyFailure, type ExpectedAnswer } from '../classify-answer.ts';
import type { RestTraceInfo } from '../rest-trace-payload.ts';
import { mlflowStep, type StepResult } from './mlflow-step.ts';

/** A trace's info as MLflow answers it (only the fields a sender reads). */
export interface RegisteredTraceInfo {
  trace_id?: unknown;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
}

type TraceInfoAnswer = { trace?: { trace_info?: RegisteredTraceInfo } };
type Failed = Extract<StepResult, { ok: false }>;

/** StartTraceV3 and the trace lookup answer `{"trace": {"trace_info": {...}}}` for this very trace. */
function traceInfoOf(traceId: string): ExpectedAnswer {
  return {
    kind: 'mlflow-json',
    has: (json) => (json as TraceInfoAnswer).trace?.trace_info?.trace_id === traceId,
    what: `the trace info of ${traceId}`,
  };
}

/**
 * `GET /api/3.0/mlflow/traces/{id}`: the info of a trace tried before, or `undefined` when MLflow
 * does not know it. Whatever else the lookup meets says nothing against the trace: it waits.
 */
export async function findRegisteredTrace(
  http: MlflowHttp,
  traceId: string,
): Promise<{ ok: true; info: RegisteredTraceInfo | undefined } | Failed> {
  let known: RawResponse;
  try {
    known = await http.request({ method: 'GET', path: `/api/3.0/mlflow/traces/${encodeURIComponent(traceId)}`, raw: true });
  } catch (error) {
    return { ok: false, outcome: { ...classifyFailure(error), answer: `looking the trace up failed: ${(error as Error).message}` } };
  }
  if (known.status === 404 && (known.json as { error_code?: unknown } | undefined)?.error_code === 'RESOURCE_DOES_NOT_EXIST')
    return { ok: true, info: undefined };
  const outcome = classifyAnswer(known, traceInfoOf(traceId));
  if (outcome.kind === 'delivered') return { ok: true, info: (known.json as TraceInfoAnswer).trace?.trace_info ?? {} };
  return { ok: false, outcome: { kind: 'retry', status: known.status, answer: `looking the trace up failed: ${outcome.answer}` } };
}

/** StartTraceV3: registers (or, on SQL stores, updates in place) a trace's info; answers the info MLflow stored. */
export async function startTrace(http: MlflowHttp, info: RestTraceInfo): Promise<{ ok: true; info: RegisteredTraceInfo } | Failed> {
  const started = await mlflowStep(
    http,
    { method: 'POST', path: '/api/3.0/mlflow/traces', json: { trace: { trace_info: info } } },
    traceInfoOf(info.trace_id),
    'registering the trace',
  );
  if (!started.ok) return started;
  return { ok: true, info: (started.response.json as TraceInfoAnswer).trace?.trace_info ?? {} };
}
