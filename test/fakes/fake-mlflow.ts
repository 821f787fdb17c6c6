import { randomUUID } from 'node:crypto';
import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { jsonReply, serveRecorded, textReply } from './exchange.ts';
import type { Exchange, RecordedRequest, Reply } from './exchange.ts';
import { listen } from './listen.ts';
import { flaskMethodNotAllowed, flaskNotFound, MlflowError, mlflowErrorReply } from './mlflow-errors.ts';
import {
  answer,
  createExperiment,
  deleteExperiment,
  getExperiment,
  getExperimentByName,
  getTraceInfoV3,
  prettyJson,
  requiredParam,
  restoreExperiment,
  searchExperiments,
  searchTracesV3,
  startTraceV3,
} from './mlflow-rest-api.ts';
import type { RestDialect } from './mlflow-rest-api.ts';
import { createAssessment } from './mlflow-assessments-api.ts';
import { createRun, getRun, linkTracesToRun, logBatch, searchRuns, updateRun } from './mlflow-runs-api.ts';
import { MLFLOW_BEHAVIOUR, MLFLOW_VERSIONS } from './mlflow-versions.ts';
import type { MlflowBehaviour, MlflowVersion } from './mlflow-versions.ts';
import { decodeOtlpJson, decodeOtlpProtobuf, OtlpDecodeError } from '../../src/otlp/otlp-decode.ts';
import type { OtlpResourceSpans } from '../../src/otlp/otlp-decode.ts';
import { ingestOtlp } from './otlp-ingest.ts';
import { dumpJson, tryParseJson } from './python-json.ts';
import { otlpJsonSpan, spansFromTracesJson, tracesJsonText } from './span-json.ts';
import { TraceStore } from './trace-store.ts';
import type { StoredTrace } from './trace-store.ts';

export { MLFLOW_VERSIONS };
export type { MlflowVersion, RecordedRequest };

export interface FakeMlflowOptions {
  /** Default '3.8.1'. */
  version?: MlflowVersion;
  /** 'file': a file store (OTLP 501, traces/get and batchGet 501, a re-sent StartTraceV3 500). Default 'sql'. */
  backend?: 'sql' | 'file';
  /** Default true; false = an old server or one run under gunicorn: /v1/traces answers Flask's 404. */
  otlpRoute?: boolean;
  /** Keep every request's body in `requests` (to look for what must never reach MLflow). */
  keepBodies?: boolean;
  /** MLflow's basic-auth app: 401 on every route but /health unless this Authorization is sent. */
  auth?: { username: string; password: string } | { token: string };
  /** A reverse proxy in front (nginx): a missing / wrong Bearer token gets its 401 / 403 page and never reaches MLflow. */
  proxy?: { token: string; server?: string };
}

export interface FakeMlflow {
  /** http://127.0.0.1:<port> */
  url: string;
  version: MlflowVersion;
  requests: RecordedRequest[];
  store: TraceStore;
  /** Creates an experiment as the REST API would; returns its id. */
  createExperiment(name: string): string;
  /** Marks an experiment deleted (its name stays taken, as on a real server). */
  deleteExperiment(id: string): void;
  /** Creates a run in an experiment as runs/create would; returns its id. */
  createRun(experimentId: string, name?: string): string;
  /** Marks a run deleted (runs/get still answers it, as on a real server). */
  deleteRun(runId: string): void;
  close(): Promise<void>;
}

interface Context {
  version: MlflowVersion;
  behaviour: MlflowBehaviour;
  backend: 'sql' | 'file';
  store: TraceStore;
  dialect: RestDialect;
}

function detailReply(status: number, detail: unknown): Reply {
  return jsonReply(status, dumpJson({ detail }, 'compact'));
}

function missingExperimentHeader(behaviour: MlflowBehaviour): Reply {
  const loc = ['header', 'x-mlflow-experiment-id'];
  return detailReply(
    422,
    behaviour.missingHeaderStyle === 'pydantic1'
      ? [{ loc, msg: 'field required', type: 'value_error.missing' }]
      : [{ type: 'missing', loc, msg: 'Field required', input: null }],
  );
}

function decompress(body: Buffer, encoding: string): Buffer | Reply {
  try {
    switch (encoding) {
      case 'identity':
        return body;
      case 'gzip':
        return gunzipSync(body);
      case 'deflate':
        try {
          return inflateSync(body);
        } catch {
          return inflateRawSync(body);
        }
      default:
        return detailReply(400, `Unsupported Content-Encoding: ${encoding}`);
    }
  } catch {
    return detailReply(400, `Failed to decompress ${encoding} payload`);
  }
}

/** POST /v1/traces, checked in the order MLflow's FastAPI route checks (mlflow/server/otel_api.py). */
function exportTraces(ctx: Context, exchange: Exchange): Reply {
  const { behaviour } = ctx;
  // FastAPI resolves the required header before the handler body runs.
  const experimentId = exchange.headers['x-mlflow-experiment-id'];
  if (experimentId === undefined) return missingExperimentHeader(behaviour);

  const contentType = exchange.headers['content-type'];
  const shown = contentType ?? 'None';
  let format: 'protobuf' | 'json';
  if (behaviour.acceptsJson) {
    const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
    if (mediaType === 'application/x-protobuf') format = 'protobuf';
    else if (mediaType === 'application/json') format = 'json';
    else return detailReply(400, `Invalid Content-Type: ${shown}. Expected: application/x-protobuf or application/json`);
  } else if (contentType === 'application/x-protobuf') {
    format = 'protobuf';
  } else {
    return detailReply(400, `Invalid Content-Type: ${shown}. Expected: application/x-protobuf`);
  }

  let body = exchange.body;
  const encoding = exchange.headers['content-encoding'];
  if (behaviour.decompresses && encoding) {
    const decompressed = decompress(body, encoding.toLowerCase());
    if (!Buffer.isBuffer(decompressed)) return decompressed;
    body = decompressed;
  }

  const invalid = `Invalid ${behaviour.formatWord}`;
  let request: OtlpResourceSpans[];
  try {
    if (format === 'protobuf') {
      request = decodeOtlpProtobuf(body);
    } else {
      const parsed = tryParseJson(body.toString('utf8'));
      if (parsed === undefined) return detailReply(400, invalid);
      request = decodeOtlpJson(parsed.value);
    }
  } catch (error) {
    if (error instanceof OtlpDecodeError) return detailReply(400, invalid);
    throw error;
  }
  if (request.length === 0) return detailReply(400, `${invalid} - no spans found`);

  const outcome = ingestOtlp({ store: ctx.store, behaviour, backend: ctx.backend }, experimentId, request);
  switch (outcome.kind) {
    case 'stored':
      linkCompletedTraces(ctx, exchange, request);
      return { status: 200, headers: { 'content-type': 'application/x-protobuf' }, body: behaviour.otlpSuccessBody };
    case 'detail':
      return detailReply(outcome.status, outcome.detail);
    case 'mlflow':
      return mlflowErrorReply(outcome.error, behaviour.errorClasses, 'compact');
  }
}

/** mlflow/server/otel_api.py: with `x-mlflow-run-id`, the traces completed by this request (their root span is in it) are linked. */
function linkCompletedTraces(ctx: Context, exchange: Exchange, request: OtlpResourceSpans[]): void {
  const runId = exchange.headers['x-mlflow-run-id'];
  if (!ctx.behaviour.otlpRunHeader || runId === undefined || runId === '') return;
  const roots = request.flatMap((resourceSpans) => resourceSpans.spans.filter((span) => span.parentSpanId.length === 0));
  ctx.store.linkTraces([...new Set(roots.map((span) => `tr-${span.traceId.toString('hex')}`))], runId);
}

function notImplemented(): MlflowError {
  return new MlflowError('NOT_IMPLEMENTED', '');
}

/** traces/get and batchGet serve spans from the tracking store: OTLP-ingested traces only. */
function withSpans(trace: StoredTrace): Record<string, unknown> {
  if (trace.loggedVia !== 'otlp') throw new MlflowError('INTERNAL_ERROR', 'Trace data not stored in tracking store');
  return { trace_info: trace.info, spans: trace.spans.map(otlpJsonSpan) };
}

function getTraceWithSpans(ctx: Context, exchange: Exchange): Reply {
  if (ctx.backend === 'file') throw notImplemented();
  const traceId = requiredParam(exchange.query, 'trace_id');
  const trace = ctx.store.getTrace(traceId);
  if (trace === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Trace with ID ${traceId} is not found.`);
  return prettyJson({ trace: withSpans(trace) });
}

function batchGetTraces(ctx: Context, exchange: Exchange): Reply {
  if (ctx.backend === 'file') throw notImplemented();
  const traces = exchange.query
    .getAll('trace_ids')
    .map((id) => ctx.store.getTrace(id))
    .filter((trace) => trace !== undefined)
    .map((trace) => withSpans(trace));
  return prettyJson(traces.length === 0 ? {} : { traces });
}

function attachment(body: string | Buffer, filename: string): Reply {
  return { status: 200, headers: { 'content-type': 'text/plain', 'content-disposition': `attachment; filename=${filename}` }, body };
}

/** What MLflow's UI reads spans from, for OTLP and REST traces alike. */
function getTraceArtifact(ctx: Context, exchange: Exchange): Reply {
  const traceId = requiredParam(exchange.query, 'request_id');
  const trace = ctx.store.getTrace(traceId);
  if (trace === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Trace with ID ${traceId} is not found.`);
  if (trace.loggedVia === 'otlp') return attachment(tracesJsonText(trace.spans, ctx.behaviour.artifactSpanLinks), 'traces.json');
  const path = TraceStore.tracesJsonPath(trace.info) ?? '';
  const bytes = ctx.store.artifact(path);
  if (bytes === undefined) throw new MlflowError('NOT_FOUND', `Trace data not found for path=<artifacts-root>/${path}`);
  if (spansFromTracesJson(bytes.toString('utf8')) === undefined) {
    throw new MlflowError('INVALID_STATE', `Trace data is corrupted for path=<artifacts-root>/${path}`);
  }
  return attachment(bytes, 'traces.json');
}

function artifactRoute(ctx: Context, exchange: Exchange, path: string): Reply {
  if (exchange.method === 'PUT') {
    ctx.store.putArtifact(path, exchange.body);
    return jsonReply(200, '{}');
  }
  const bytes = ctx.store.artifact(path);
  if (bytes === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `File ${path} does not exist.`);
  return attachment(bytes, path.split('/').pop() ?? path);
}

interface Route {
  methods: string[];
  pattern: RegExp;
  /** Served by FastAPI, which lets other methods fall through to Flask's 404 (not 405). */
  fastapi?: true;
  handle(ctx: Context, exchange: Exchange, match: RegExpExecArray): Reply;
}

const API = '/(?:api|ajax-api)';

function routes(ctx: Context, otlpRoute: boolean): Route[] {
  const d = ctx.dialect;
  const list: Route[] = [
    { methods: ['GET'], pattern: /^\/health$/, handle: () => textReply(200, 'OK', 'text/html; charset=utf-8') },
    { methods: ['GET'], pattern: /^\/version$/, handle: (c) => textReply(200, c.version, 'text/html; charset=utf-8') },
    {
      methods: ['GET'],
      pattern: new RegExp(`^${API}/2\\.0/mlflow/experiments/get-by-name$`),
      handle: (_c, e) => getExperimentByName(d, e),
    },
    { methods: ['POST'], pattern: new RegExp(`^${API}/2\\.0/mlflow/experiments/create$`), handle: (_c, e) => createExperiment(d, e) },
    { methods: ['POST'], pattern: new RegExp(`^${API}/2\\.0/mlflow/experiments/search$`), handle: (_c, e) => searchExperiments(d, e) },
    { methods: ['GET'], pattern: new RegExp(`^${API}/2\\.0/mlflow/experiments/get$`), handle: (_c, e) => getExperiment(d, e) },
    { methods: ['POST'], pattern: new RegExp(`^${API}/2\\.0/mlflow/experiments/delete$`), handle: (_c, e) => deleteExperiment(d, e) },
    { methods: ['POST'], pattern: new RegExp(`^${API}/2\\.0/mlflow/experiments/restore$`), handle: (_c, e) => restoreExperiment(d, e) },
    { methods: ['POST'], pattern: new RegExp(`^${API}/3\\.0/mlflow/traces$`), handle: (_c, e) => startTraceV3(d, e) },
    { methods: ['GET'], pattern: new RegExp(`^${API}/2\\.0/mlflow/runs/get$`), handle: (_c, e) => getRun(d, e) },
    { methods: ['POST'], pattern: new RegExp(`^${API}/2\\.0/mlflow/runs/create$`), handle: (_c, e) => createRun(d, e) },
    { methods: ['POST'], pattern: new RegExp(`^${API}/2\\.0/mlflow/runs/update$`), handle: (_c, e) => updateRun(d, e) },
    { methods: ['POST'], pattern: new RegExp(`^${API}/2\\.0/mlflow/runs/log-batch$`), handle: (_c, e) => logBatch(d, e) },
    { methods: ['POST'], pattern: new RegExp(`^${API}/2\\.0/mlflow/runs/search$`), handle: (_c, e) => searchRuns(d, e) },
    {
      methods: ['POST'],
      pattern: new RegExp(`^${API}/3\\.0/mlflow/traces/([^/]+)/assessments$`),
      handle: (_c, e, m) => createAssessment(d, e, decodeURIComponent(m[1] ?? '')),
    },
    { methods: ['POST'], pattern: new RegExp(`^${API}/2\\.0/mlflow/traces/link-to-run$`), handle: (_c, e) => linkTracesToRun(d, e) },
    { methods: ['POST'], pattern: new RegExp(`^${API}/3\\.0/mlflow/traces/search$`), handle: (_c, e) => searchTracesV3(d, e) },
    { methods: ['GET'], pattern: new RegExp(`^${API}/3\\.0/mlflow/traces/batchGet$`), handle: (c, e) => batchGetTraces(c, e) },
    { methods: ['GET'], pattern: /^\/ajax-api\/2\.0\/mlflow\/get-trace-artifact$/, handle: (c, e) => getTraceArtifact(c, e) },
    {
      methods: ['GET', 'PUT'],
      pattern: new RegExp(`^${API}/2\\.0/mlflow-artifacts/artifacts/(.+)$`),
      handle: (c, e, m) => artifactRoute(c, e, decodeURIComponent(m[1] ?? '')),
    },
  ];
  if (ctx.behaviour.hasTracesGet) {
    list.push({ methods: ['GET'], pattern: new RegExp(`^${API}/3\\.0/mlflow/traces/get$`), handle: (c, e) => getTraceWithSpans(c, e) });
  }
  if (ctx.behaviour.hasAjaxV3TraceArtifact) {
    list.push({ methods: ['GET'], pattern: /^\/ajax-api\/3\.0\/mlflow\/get-trace-artifact$/, handle: (c, e) => getTraceArtifact(c, e) });
  }
  // After traces/get: on 3.6 that path falls through to here, as trace id "get".
  list.push({
    methods: ['GET'],
    pattern: new RegExp(`^${API}/3\\.0/mlflow/traces/([^/]+)$`),
    handle: (_c, _e, m) => getTraceInfoV3(d, decodeURIComponent(m[1] ?? '')),
  });
  if (otlpRoute) list.unshift({ methods: ['POST'], pattern: /^\/v1\/traces$/, fastapi: true, handle: (c, e) => exportTraces(c, e) });
  return list;
}

function route(ctx: Context, table: Route[], exchange: Exchange): Reply {
  let pathMatched = false;
  for (const candidate of table) {
    const match = candidate.pattern.exec(exchange.pathname);
    if (match === null) continue;
    if (candidate.fastapi !== true) pathMatched = true;
    if (!candidate.methods.includes(exchange.method)) continue;
    return answer(ctx.dialect, () => candidate.handle(ctx, exchange, match));
  }
  return pathMatched ? flaskMethodNotAllowed() : flaskNotFound();
}

const AUTH_HINT =
  'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.';

/** mlflow/server/auth: everything but /health, /static and /favicon.ico needs the credentials. */
function authRefusal(auth: NonNullable<FakeMlflowOptions['auth']>, exchange: Exchange): Reply | undefined {
  if (exchange.pathname === '/health' || exchange.pathname.startsWith('/static') || exchange.pathname === '/favicon.ico') return undefined;
  const [scheme = '', credentials = ''] = (exchange.headers.authorization ?? '').split(' ', 2);
  const accepted =
    'token' in auth
      ? scheme.toLowerCase() === 'bearer' && credentials === auth.token
      : scheme.toLowerCase() === 'basic' && Buffer.from(credentials, 'base64').toString('utf8') === `${auth.username}:${auth.password}`;
  if (accepted) return undefined;
  return {
    status: 401,
    headers: { 'content-type': 'text/html; charset=utf-8', 'www-authenticate': 'Basic realm="mlflow"' },
    body: AUTH_HINT,
  };
}

function proxyRefusal(proxy: NonNullable<FakeMlflowOptions['proxy']>, exchange: Exchange): Reply | undefined {
  const authorization = exchange.headers.authorization;
  if (authorization === `Bearer ${proxy.token}`) return undefined;
  const server = proxy.server ?? 'nginx/1.25.3';
  const title = authorization === undefined ? '401 Authorization Required' : '403 Forbidden';
  return {
    status: authorization === undefined ? 401 : 403,
    headers: { 'content-type': 'text/html', server },
    body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>${server}</center>\r\n</body>\r\n</html>\r\n`,
  };
}

function sqlDuplicateMessage(name: string, workspace: boolean): string {
  const now = Date.now();
  return workspace
    ? `Experiment(name=${name}) already exists. Error: (sqlite3.IntegrityError) UNIQUE constraint failed: experiments.workspace, experiments.name\n[SQL: INSERT INTO experiments (name, workspace, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?, ?)]\n[parameters: ('${name}', 'default', '', 'active', ${now}, ${now})]\n(Background on this error at: https://sqlalche.me/e/20/gkpj)`
    : `Experiment(name=${name}) already exists. Error: (raised as a result of Query-invoked autoflush; consider using a session.no_autoflush block if this flush is occurring prematurely)\n(sqlite3.IntegrityError) UNIQUE constraint failed: experiments.name\n[SQL: INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) VALUES (?, ?, ?, ?, ?)]\n[parameters: ('${name}', '', 'active', ${now}, ${now})]\n(Background on this error at: https://sqlalche.me/e/14/gkpj)`;
}

function fileStoreExperimentId(): string {
  // The file store names experiments with the first 18 digits of a random UUID's integer value.
  return BigInt(`0x${randomUUID().replace(/-/g, '')}`)
    .toString()
    .slice(0, 18);
}

export async function startFakeMlflow(options: FakeMlflowOptions = {}): Promise<FakeMlflow> {
  const version = options.version ?? '3.8.1';
  const behaviour = MLFLOW_BEHAVIOUR[version];
  const backend = options.backend ?? 'sql';
  let nextId = 1;
  const store = new TraceStore({
    nextExperimentId: backend === 'file' ? fileStoreExperimentId : () => String(nextId++),
    artifactLocation: (id) => `mlflow-artifacts:/${id}`,
  });
  store.createExperiment('Default', '0');
  const dialect: RestDialect = {
    store,
    errorClasses: behaviour.errorClasses,
    messages:
      backend === 'file'
        ? {
            noExperimentId: (id) => `Could not find experiment with ID ${id}`,
            noExperimentName: (name) => `Could not find experiment with name '${name}'`,
            duplicateExperiment: (name) => `Experiment '${name}' already exists.`,
            startTraceNoExperiment: (id) => `Experiment ${id} does not exist.`,
          }
        : {
            noExperimentId: (id) => `No Experiment with id=${id} exists`,
            noExperimentName: (name) => `Could not find experiment with name '${name}'`,
            duplicateExperiment: (name) => sqlDuplicateMessage(name, behaviour.experimentWorkspace),
            startTraceNoExperiment: (id) => `No Experiment with id=${id} exists`,
          },
    traceArtifactLocation: (experiment, traceId) =>
      [experiment.artifactLocation, 'traces', traceId, 'artifacts'].filter((part) => part !== '').join('/'),
    resendTrace: backend === 'file' ? 'flask-500' : 'update',
    ...(behaviour.experimentWorkspace ? { experimentWorkspace: 'default' } : {}),
  };
  const ctx: Context = { version, behaviour, backend, store, dialect };
  const table = routes(ctx, options.otlpRoute ?? true);
  const requests: RecordedRequest[] = [];
  const server = await listen(
    serveRecorded(
      requests,
      (exchange) => {
        const refusal = (options.proxy && proxyRefusal(options.proxy, exchange)) ?? (options.auth && authRefusal(options.auth, exchange));
        if (refusal) return refusal;
        const reply = route(ctx, table, exchange);
        return { ...reply, headers: { server: 'uvicorn', ...reply.headers } };
      },
      { keepBodies: options.keepBodies === true },
    ),
  );
  return {
    url: server.url,
    version,
    requests,
    store,
    createExperiment: (name) => store.createExperiment(name).experimentId,
    deleteExperiment: (id) => store.setLifecycle(id, 'deleted'),
    createRun: (experimentId, name) => store.createRun(experimentId, name).runId,
    deleteRun: (runId) => store.setRunLifecycle(runId, 'deleted'),
    close: () => server.close(),
  };
}
