import { MlflowError } from './mlflow-errors.ts';
import type { MlflowBehaviour } from './mlflow-versions.ts';
import type { OtlpAnyValue, OtlpKeyValue, OtlpResourceSpans, OtlpSpan } from '../../src/otlp/otlp-decode.ts';
import { anyValueToJs } from './python-any-value.ts';
import { dumpJson, tryParseJson } from './python-json.ts';
import { truncatedPreview } from './trace-preview.ts';
import { SPANS_LOCATION, sortSpans } from './trace-store.ts';
import type { StoredSpan, TraceInfo, TraceRecord, TraceStore } from './trace-store.ts';

/**
 * What MLflow's OTLP route does with a decoded request once headers and body checked out:
 * convert spans, store them trace by trace (≤ 3.8) or all at once (3.11+), derive the trace
 * info (state, duration, previews, token usage, session/user, tags). Versions differ as
 * MlflowBehaviour describes.
 */

export type IngestOutcome =
  | { kind: 'stored' }
  /** FastAPI `HTTPException`: `{"detail": ...}` with this status. */
  | { kind: 'detail'; status: number; detail: string }
  /** An MlflowException the 3.11+ route returns as its JSON. */
  | { kind: 'mlflow'; error: MlflowError };

export interface IngestTarget {
  store: TraceStore;
  behaviour: MlflowBehaviour;
  backend: 'sql' | 'file';
}

interface ConvertedSpan {
  traceId: string;
  span: OtlpSpan;
  resourceAttributes: OtlpKeyValue[];
}

const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

/** Python's `int.from_bytes(id, "big")` then hex: short ids are zero-padded, empty ones become 0. */
function idHex(bytes: Buffer, digits: number): string {
  const value = bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
  return value.toString(16).padStart(digits, '0');
}

export function ingestOtlp(target: IngestTarget, experimentId: string, request: OtlpResourceSpans[]): IngestOutcome {
  const { behaviour } = target;
  const converted: ConvertedSpan[] = [];
  for (const resourceSpans of request) {
    for (const span of resourceSpans.spans) {
      if (!behaviour.acceptsEmptySpanId && (/^0*$/.test(span.spanId.toString('hex')) || /^0*$/.test(span.traceId.toString('hex')))) {
        return { kind: 'detail', status: 422, detail: 'Cannot convert OpenTelemetry span to MLflow span' };
      }
      converted.push({ traceId: `tr-${idHex(span.traceId, 32)}`, span, resourceAttributes: resourceSpans.resourceAttributes });
    }
  }
  if (converted.length === 0) return { kind: 'stored' };
  const byTrace = Map.groupBy(converted, (item) => item.traceId);
  const notSupported: IngestOutcome = { kind: 'detail', status: 501, detail: 'REST OTLP span logging is not supported by FileStore' };

  if (behaviour.ingest === 'per-trace') {
    const failures: string[] = [];
    for (const [traceId, spans] of byTrace) {
      if (target.backend === 'file') return notSupported;
      const problem = experimentProblemBefore311(target.store, experimentId);
      if (problem === undefined) storeTrace(target, experimentId, traceId, spans);
      else failures.push(`Trace ${traceId}: ${problem}`);
    }
    return failures.length === 0
      ? { kind: 'stored' }
      : { kind: 'detail', status: 422, detail: `Failed to log OpenTelemetry spans: ${failures.join('\n')}` };
  }

  if (target.backend === 'file') return notSupported;
  if (experimentId === '') {
    switch (behaviour.emptyExperimentHeader) {
      case 'silently-dropped':
        return { kind: 'stored' };
      case 'key-error':
        return { kind: 'mlflow', error: new MlflowError('INTERNAL_ERROR', `'${[...byTrace.keys()][0]}'`) };
      default:
        return { kind: 'mlflow', error: new MlflowError('BAD_REQUEST', 'No row was found when one was required') };
    }
  }
  if (!/^\d+$/.test(experimentId)) {
    return {
      kind: 'mlflow',
      error: new MlflowError('INVALID_PARAMETER_VALUE', `Invalid experiment ID '${experimentId}'. Experiment ID must be a valid integer.`),
    };
  }
  if (!target.store.experiments.has(experimentId)) {
    return { kind: 'mlflow', error: new MlflowError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${experimentId} exists`) };
  }
  for (const [traceId, spans] of byTrace) storeTrace(target, experimentId, traceId, spans);
  return { kind: 'stored' };
}

/** The error text the SQL store raised per trace up to 3.8. */
function experimentProblemBefore311(store: TraceStore, experimentId: string): string | undefined {
  if (experimentId === '') return 'No row was found when one was required';
  if (!/^-?\d+$/.test(experimentId.trim())) return `invalid literal for int() with base 10: '${experimentId}'`;
  if (!store.experiments.has(experimentId)) return `No Experiment with id=${experimentId} exists`;
  return undefined;
}

function storeTrace(target: IngestTarget, experimentId: string, traceId: string, spans: ConvertedSpan[]): void {
  const experiment = target.store.experiments.get(experimentId);
  const record = target.store.otlpRecord({
    trace_id: traceId,
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } },
    request_time: '',
    state: 'IN_PROGRESS',
  });
  for (const { span, resourceAttributes } of spans) {
    const stored = storeSpan(target.behaviour, traceId, span);
    record.spans.set(stored.spanId, stored);
    for (const kv of resourceAttributes) record.resourceAttributes[kv.key] = anyValueToJs(kv.value);
  }
  record.info = deriveInfo(
    target.behaviour,
    record,
    `${experiment?.artifactLocation ?? `mlflow-artifacts:/${experimentId}`}/traces/${traceId}/artifacts`,
  );
}

/** Python's `float.__repr__` for whole numbers keeps ".0"; the rest JS prints alike. */
function pythonFloat(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

function isJsonKind(text: string, keep: MlflowBehaviour['keepsJsonStrings']): boolean {
  if (keep === 'none') return false;
  const parsed = tryParseJson(text);
  if (parsed === undefined || typeof parsed.value !== 'object' || parsed.value === null) return false;
  return keep === 'objects-and-arrays' || !Array.isArray(parsed.value);
}

/** An OTel attribute value as the server stores it (a JSON-encoded string). */
function storedValue(behaviour: MlflowBehaviour, value: OtlpAnyValue): string {
  switch (value.kind) {
    case 'string':
      return isJsonKind(value.value, behaviour.keepsJsonStrings) ? value.value : dumpJson(value.value);
    case 'double':
      return pythonFloat(value.value);
    case 'bytes':
      return dumpJson(value.value.toString('base64'));
    default:
      return dumpJson(anyValueToJs(value));
  }
}

const OPERATION_SPAN_TYPES: Record<string, string> = {
  chat: 'CHAT_MODEL',
  text_completion: 'LLM',
  generate_content: 'LLM',
  embeddings: 'EMBEDDING',
  execute_tool: 'TOOL',
  invoke_agent: 'AGENT',
  create_agent: 'AGENT',
};

function decoded(raw: Record<string, string>, key: string): unknown {
  const value = raw[key];
  return value === undefined ? undefined : tryParseJson(value)?.value;
}

function usageFrom(raw: Record<string, string>, keys: [string, string, string]): Record<string, unknown> | undefined {
  const [input, output, total] = keys.map((key) => decoded(raw, key));
  const usage: Record<string, unknown> = {};
  if (typeof input === 'number') usage.input_tokens = input;
  if (typeof output === 'number') usage.output_tokens = output;
  if (typeof total === 'number') usage.total_tokens = total;
  else if (typeof input === 'number' && typeof output === 'number') usage.total_tokens = input + output;
  return Object.keys(usage).length === 0 ? undefined : usage;
}

/** MLflow's translation of other tracing schemas into its own span attributes; explicit mlflow.* keys win. */
function translate(behaviour: MlflowBehaviour, raw: Record<string, string>): void {
  const setIfAbsent = (key: string, value: string | undefined): void => {
    if (value !== undefined && raw[key] === undefined) raw[key] = value;
  };
  if (behaviour.translatesOpenInferenceTokens) {
    const usage = usageFrom(raw, ['llm.token_count.prompt', 'llm.token_count.completion', 'llm.token_count.total']);
    if (usage !== undefined) setIfAbsent('mlflow.chat.tokenUsage', dumpJson(usage));
  }
  if (behaviour.translatesGenAi) {
    const operation = decoded(raw, 'gen_ai.operation.name');
    const spanType = typeof operation === 'string' ? OPERATION_SPAN_TYPES[operation] : undefined;
    setIfAbsent('mlflow.spanType', spanType === undefined ? undefined : dumpJson(spanType));
    setIfAbsent('mlflow.spanInputs', raw['gen_ai.input.messages']);
    setIfAbsent('mlflow.spanOutputs', raw['gen_ai.output.messages']);
    const usage = usageFrom(raw, ['gen_ai.usage.input_tokens', 'gen_ai.usage.output_tokens', 'gen_ai.usage.total_tokens']);
    if (usage !== undefined) setIfAbsent('mlflow.chat.tokenUsage', dumpJson(usage));
  }
  if (behaviour.derivesLlmModel) {
    setIfAbsent('mlflow.llm.model', raw['gen_ai.request.model'] ?? raw['gen_ai.response.model']);
    setIfAbsent('mlflow.llm.provider', raw['gen_ai.provider.name'] ?? raw['gen_ai.system']);
  }
}

function storeSpan(behaviour: MlflowBehaviour, traceId: string, span: OtlpSpan): StoredSpan {
  const raw: Record<string, string> = {};
  const requestId = dumpJson(traceId);
  // Python builds {REQUEST_ID: id, **attributes}: a client-sent mlflow.traceRequestId wins.
  if (!behaviour.requestIdAttributeLast) raw['mlflow.traceRequestId'] = requestId;
  for (const { key, value } of span.attributes) raw[key] = storedValue(behaviour, value);
  if (behaviour.requestIdAttributeLast && raw['mlflow.traceRequestId'] === undefined) raw['mlflow.traceRequestId'] = requestId;
  translate(behaviour, raw);
  return storedSpan(span, raw);
}

/** A decoded OTLP span with its attributes already encoded as the server stores them. */
export function storedSpan(span: OtlpSpan, rawAttributes: Record<string, string>): StoredSpan {
  return {
    name: span.name,
    traceId: idHex(span.traceId, 32),
    spanId: idHex(span.spanId, 16),
    parentSpanId: span.parentSpanId.length === 0 ? null : idHex(span.parentSpanId, 16),
    startTimeUnixNano: span.startTimeUnixNano,
    endTimeUnixNano: span.endTimeUnixNano,
    status: { code: STATUS_NAMES[span.status.code] ?? 'STATUS_CODE_UNSET', message: span.status.message },
    attributes: Object.fromEntries(Object.keys(rawAttributes).map((key) => [key, decoded(rawAttributes, key)])),
    rawAttributes,
    events: span.events.map((event) => ({
      name: event.name,
      timeUnixNano: event.timeUnixNano,
      attributes: Object.fromEntries(event.attributes.map((kv) => [kv.key, anyValueToJs(kv.value)])),
    })),
  };
}

/** google.protobuf.Timestamp JSON at millisecond precision (what the SQL store keeps). */
export function timestampJson(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** google.protobuf.Duration JSON at millisecond precision: "0s", "0.008s", "1.500s". */
export function durationJson(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const fraction = ms % 1000;
  return fraction === 0 ? `${seconds}s` : `${seconds}.${String(fraction).padStart(3, '0')}s`;
}

/** Python's `str()` of an attribute value, for tags. */
function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return dumpJson(value);
}

/**
 * The trace info after an ingest, as `log_spans` writes it: time, state, previews and token usage from
 * the spans; `mlflow.trace.session` / `mlflow.trace.user` only where the trace has none yet (so a
 * trace registered over REST first keeps the values it was given); other metadata and tags it had stay.
 */
function deriveInfo(behaviour: MlflowBehaviour, record: TraceRecord, artifactLocation: string): TraceInfo {
  const before = record.info;
  const spans = sortSpans([...record.spans.values()]);
  const root = spans.find((span) => span.parentSpanId === null);
  const startMs = Number(
    // biome-ignore lint/complexity/useMathMinMax: these are bigints, which Math.min and Math.max throw on
    spans.reduce((min, span) => (span.startTimeUnixNano < min ? span.startTimeUnixNano : min), spans[0]?.startTimeUnixNano ?? 0n) /
      1_000_000n,
  );
  // biome-ignore lint/complexity/useMathMinMax: these are bigints, which Math.min and Math.max throw on
  const endMs = Number(spans.reduce((max, span) => (span.endTimeUnixNano > max ? span.endTimeUnixNano : max), 0n) / 1_000_000n);

  const metadata: Record<string, string> = { ...before.trace_metadata };
  const usageTotals: Record<string, number> = {};
  for (const span of spans) {
    const usage = span.attributes['mlflow.chat.tokenUsage'];
    if (typeof usage !== 'object' || usage === null) continue;
    for (const key of ['input_tokens', 'output_tokens', 'total_tokens']) {
      const count = (usage as Record<string, unknown>)[key];
      if (typeof count === 'number') usageTotals[key] = (usageTotals[key] ?? 0) + count;
    }
  }
  if (Object.keys(usageTotals).length > 0) metadata['mlflow.trace.tokenUsage'] = dumpJson(usageTotals);

  const rootFirst = root === undefined ? spans : [root, ...spans.filter((span) => span !== root)];
  const firstRaw = (key: string): { raw: unknown; value: unknown } | undefined => {
    const span = rootFirst.find((candidate) => candidate.rawAttributes[key] !== undefined);
    return span === undefined ? undefined : { raw: span.rawAttributes[key], value: span.attributes[key] };
  };
  const sessionUser: [string, string][] =
    behaviour.sessionUserMetadata === 'none'
      ? []
      : behaviour.sessionUserMetadata === 'session-quoted'
        ? [['session.id', 'mlflow.trace.session']]
        : [
            ['session.id', 'mlflow.trace.session'],
            ['user.id', 'mlflow.trace.user'],
          ];
  for (const [attribute, key] of sessionUser) {
    const found = firstRaw(attribute);
    if (found === undefined || metadata[key] !== undefined) continue;
    metadata[key] = behaviour.sessionUserMetadata === 'both-plain' ? pythonStr(found.value) : String(found.raw);
  }

  const tags: Record<string, string> = {
    ...before.tags,
    [SPANS_LOCATION]: 'TRACKING_STORE',
    'mlflow.artifactLocation': before.tags?.['mlflow.artifactLocation'] ?? artifactLocation,
  };
  if (behaviour.rootSpanTraceTags && root !== undefined) {
    for (const [key, value] of Object.entries(root.attributes)) {
      if (key.startsWith('mlflow.traceTag.')) tags[key.slice('mlflow.traceTag.'.length)] = pythonStr(value);
    }
  }
  if (behaviour.resourceAttributesAsTags) {
    for (const [key, value] of Object.entries(record.resourceAttributes)) tags[key] = pythonStr(value);
  }

  const inputs = root?.rawAttributes['mlflow.spanInputs'];
  const outputs = root?.rawAttributes['mlflow.spanOutputs'];
  const requestPreview = typeof inputs === 'string' ? truncatedPreview(inputs, 'user') : (before.request_preview ?? '');
  const responsePreview = typeof outputs === 'string' ? truncatedPreview(outputs, 'assistant') : (before.response_preview ?? '');
  const rootState = root === undefined ? undefined : root.status.code === 'STATUS_CODE_ERROR' ? 'ERROR' : 'OK';
  return {
    trace_id: before.trace_id,
    ...(before.client_request_id === undefined ? {} : { client_request_id: before.client_request_id }),
    trace_location: before.trace_location,
    request_time: timestampJson(startMs),
    execution_duration: durationJson(endMs - startMs),
    state: rootState ?? before.state,
    ...(Object.keys(metadata).length === 0 ? {} : { trace_metadata: metadata }),
    tags,
    ...(requestPreview === '' ? {} : { request_preview: requestPreview }),
    ...(responsePreview === '' ? {} : { response_preview: responsePreview }),
    ...(before.assessments === undefined ? {} : { assessments: before.assessments }),
  };
}
