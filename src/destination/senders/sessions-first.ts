import type { MlflowHttp } from '../../mlflow/http.ts';
import type { ServerCapabilities } from '../../mlflow/server-info.ts';
import { toReadableSpans } from '../../spans/readable-spans.ts';
import type { DeliveryOutcome } from '../classify-answer.ts';
import { decodeTrace } from '../encoded-trace.ts';
import { restTraceInfo, type RestTraceInfo } from '../rest-trace-payload.ts';
import type { OutgoingTrace } from '../sender.ts';
import { findRegisteredTrace, startTrace } from './trace-registration.ts';

const SESSION_KEYS = ['mlflow.trace.session', 'mlflow.trace.user'] as const;
/** The root span's attributes they come from. */
const SESSION_ATTRIBUTES = ['session.id', 'user.id'];

/** Spans are read from the tracking store, where OTLP puts them, not from a traces.json that never comes. */
const SPANS_IN_TRACKING_STORE = { 'mlflow.trace.spansLocation': 'TRACKING_STORE' };

/** Registrations in flight at once, before one OTLP request. */
const PARALLEL_REGISTRATIONS = 4;

/**
 * Whether the server's OTLP ingest stores `session.id` / `user.id` as plain, searchable session and
 * user metadata by itself. 3.6 stores none, 3.7–3.12 store them JSON-quoted (and 3.7–3.11 no user), so
 * ``metadata.`mlflow.trace.session` = 's1'`` finds nothing there (mlflow-protocol.md §3).
 */
export function ingestKeepsSessionsPlain(capabilities: ServerCapabilities | undefined): boolean {
  return capabilities?.sessionMetadata === 'session+user' && !capabilities.metadataJsonQuoted;
}

/**
 * For servers whose OTLP ingest would store sessions and users quoted or not at all: each trace that
 * carries one is registered first with StartTraceV3, with the plain values and everything else MLflow
 * shows of it. Ingest writes session and user metadata only where a trace has none yet, so the spans
 * that follow over OTLP keep them. A trace without either goes as before. A registration that fails
 * fails the request, as its OTLP answer would: the deliverer retries or splits as it does for those.
 */
export function registerSessionsFirst(http: MlflowHttp, experimentId: string) {
  const register = async (trace: OutgoingTrace): Promise<DeliveryOutcome | undefined> => {
    // Most traces carry neither key: their bytes say so without decoding them.
    if (!SESSION_ATTRIBUTES.some((key) => Buffer.from(trace.otlp.buffer, trace.otlp.byteOffset, trace.otlp.length).includes(key)))
      return undefined;
    const info = restTraceInfo(toReadableSpans(decodeTrace(trace.otlp)), experimentId);
    if (!SESSION_KEYS.some((key) => info.trace_metadata[key] !== undefined)) return undefined;
    const wanted: RestTraceInfo = { ...info, tags: SPANS_IN_TRACKING_STORE };
    if (trace.attempts > 0) {
      // Tried before: registered, maybe its spans too. Re-registering must keep every metadata key
      // MLflow has (a StartTraceV3 that drops one answers 500), and is needed only where the values differ.
      const found = await findRegisteredTrace(http, trace.traceId);
      if (!found.ok) return found.outcome;
      if (found.info) {
        const metadata = found.info.trace_metadata ?? {};
        if (SESSION_KEYS.every((key) => metadata[key] === info.trace_metadata[key])) return undefined;
        wanted.trace_metadata = { ...metadata, ...info.trace_metadata };
        wanted.tags = { ...found.info.tags, ...SPANS_IN_TRACKING_STORE };
      }
    }
    const started = await startTrace(http, wanted);
    return started.ok ? undefined : started.outcome;
  };

  return async (traces: readonly OutgoingTrace[]): Promise<DeliveryOutcome | undefined> => {
    for (let next = 0; next < traces.length; next += PARALLEL_REGISTRATIONS) {
      const outcomes = await Promise.all(traces.slice(next, next + PARALLEL_REGISTRATIONS).map(register));
      // A server that needs time outranks one trace's refusal: the request waits rather than being split.
      const failed = outcomes.find((outcome) => outcome?.kind === 'retry') ?? outcomes.find((outcome) => outcome !== undefined);
      if (failed) return failed;
    }
    return undefined;
  };
}
