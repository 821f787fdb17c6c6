import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { jsonReply, serveRecorded } from './exchange.ts';
import type { Exchange, RecordedRequest, Reply } from './exchange.ts';
import { listen } from './listen.ts';
import { MlflowError, mlflowErrorReply } from './mlflow-errors.ts';
import {
  createExperiment,
  deleteExperiment,
  getExperiment,
  getExperimentByName,
  getTraceInfoV3,
  restoreExperiment,
  searchExperiments,
  searchTracesV3,
  startTraceV3,
} from './mlflow-rest-api.ts';
import { createRun, getRun, linkTracesToRun } from './mlflow-runs-api.ts';
import type { RestDialect } from './mlflow-rest-api.ts';
import { decodeOtlpProtobuf, OtlpDecodeError } from '../../src/otlp/otlp-decode.ts';
import type { OtlpResourceSpans } from '../../src/otlp/otlp-decode.ts';
import { storedSpan } from './otlp-ingest.ts';
import { anyValueToJs } from './python-any-value.ts';
import { dumpJson } from './python-json.ts';
import { TraceStore } from './trace-store.ts';
import type { StoredSpan } from './trace-store.ts';

export type { RecordedRequest };

export interface FakeDatabricksOptions {
  /** Accepted personal access token. */
  pat?: string;
  /** OAuth M2M client; tokens live `tokenLifetimeSeconds` (default 3600). */
  oauth?: { clientId: string; clientSecret: string; tokenLifetimeSeconds?: number };
  /** Known Unity Catalog span tables, '<catalog>.<schema>.<prefix>_otel_spans'. */
  ucTables?: string[];
  /** Which cloud storage the signed trace-data URLs imitate. Default 'azure'. */
  cloud?: 'azure' | 'aws';
}

export interface FakeDatabricks {
  url: string;
  store: TraceStore;
  requests: RecordedRequest[];
  /** OAuth access tokens handed out by /oidc/v1/token. */
  issuedTokens: string[];
  /** Makes every issued OAuth token invalid now (a token expiring mid-run). */
  expireAllTokens(): void;
  /** Signed-URL uploads received (headers lower-case). */
  uploads: { traceId: string; headers: Record<string, string> }[];
  /** What the Unity Catalog OTLP route received. */
  ucSpans: { table: string; spans: StoredSpan[] }[];
  createExperiment(name: string): string;
  close(): Promise<void>;
}

/** How long a signed trace-data URL works (cloud SAS / presigned URLs are short-lived). */
const SIGNED_URL_LIFETIME_MS = 15 * 60 * 1000;
const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;

interface SignedUrl {
  traceId: string;
  path: string;
  direction: 'upload' | 'download';
  expiresAt: number;
}

interface State {
  options: FakeDatabricksOptions;
  url: string;
  store: TraceStore;
  dialect: RestDialect;
  tokens: Map<string, number>;
  signedUrls: Map<string, SignedUrl>;
  uploads: FakeDatabricks['uploads'];
  ucSpans: FakeDatabricks['ucSpans'];
  issuedTokens: string[];
}

function databricksJson(status: number, body: Record<string, unknown>, extra: Record<string, string> = {}): Reply {
  return jsonReply(status, dumpJson(body, 'compact'), { server: 'databricks', ...extra });
}

function databricksError(error: MlflowError): Reply {
  const reply = mlflowErrorReply(error, false, 'compact');
  return { ...reply, headers: { ...reply.headers, server: 'databricks' } };
}

/** Databricks answers 401 when no credential came, 403 for one it does not accept. */
function authRefusal(state: State, exchange: Exchange): Reply | undefined {
  const [scheme = '', token = ''] = (exchange.headers.authorization ?? '').split(' ', 2);
  if (scheme.toLowerCase() !== 'bearer' || token === '') {
    return databricksJson(401, { error_code: 401, message: 'Credential was not sent or was of an unsupported type for this API.' });
  }
  const oauthExpiry = state.tokens.get(token);
  if (token === state.options.pat || (oauthExpiry !== undefined && Date.now() < oauthExpiry)) return undefined;
  return databricksJson(
    403,
    { error_code: 403, message: 'Invalid access token.' },
    { 'x-databricks-reason-phrase': 'Invalid access token.' },
  );
}

function oauthToken(state: State, exchange: Exchange): Reply {
  const oauth = state.options.oauth;
  const [scheme = '', encoded = ''] = (exchange.headers.authorization ?? '').split(' ', 2);
  const presented = scheme.toLowerCase() === 'basic' ? Buffer.from(encoded, 'base64').toString('utf8') : '';
  if (oauth === undefined || presented !== `${oauth.clientId}:${oauth.clientSecret}`) {
    return databricksJson(401, { error: 'invalid_client', error_description: 'Client authentication failed' });
  }
  const form = new URLSearchParams(exchange.body.toString('utf8'));
  if (form.get('grant_type') !== 'client_credentials') {
    return databricksJson(400, { error: 'unsupported_grant_type', error_description: 'Only client_credentials is supported' });
  }
  if (!(form.get('scope') ?? '').split(' ').includes('all-apis')) {
    return databricksJson(400, { error: 'invalid_scope', error_description: 'The requested scope is invalid' });
  }
  const lifetime = oauth.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
  const token = `dbo-${randomBytes(16).toString('hex')}`;
  state.tokens.set(token, Date.now() + lifetime * 1000);
  state.issuedTokens.push(token);
  return databricksJson(200, { access_token: token, token_type: 'Bearer', expires_in: lifetime, scope: 'all-apis' });
}

function traceCredentials(state: State, traceId: string, direction: SignedUrl['direction']): Reply {
  const trace = state.store.getTrace(traceId);
  const path = trace === undefined ? undefined : TraceStore.tracesJsonPath(trace.info);
  if (path === undefined) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Trace with ID ${traceId} does not exist.`);
  const token = randomBytes(12).toString('hex');
  state.signedUrls.set(token, { traceId, path, direction, expiresAt: Date.now() + SIGNED_URL_LIFETIME_MS });
  const azure = (state.options.cloud ?? 'azure') === 'azure';
  return databricksJson(200, {
    credential_info: {
      run_id: traceId,
      path: 'traces.json',
      signed_uri: `${state.url}/signed-${direction}/${token}?${azure ? 'sv=2023-11-03&sr=b&sig=fake' : 'X-Amz-Signature=fake'}`,
      type: azure ? 'AZURE_SAS_URI' : 'AWS_PRESIGNED_URL',
      ...(azure && direction === 'upload' ? { headers: [{ name: 'x-ms-blob-type', value: 'BlockBlob' }] } : {}),
    },
  });
}

function storageError(status: number, code: string, message: string): Reply {
  return {
    status,
    headers: { 'content-type': 'application/xml' },
    body: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  };
}

/** Cloud storage behind a signed URL: no Databricks auth; Authorization is refused. */
function signedStorage(state: State, exchange: Exchange, direction: SignedUrl['direction'], token: string): Reply {
  const azure = (state.options.cloud ?? 'azure') === 'azure';
  const signed = state.signedUrls.get(token);
  const wantedMethod = direction === 'upload' ? 'PUT' : 'GET';
  if (signed === undefined || signed.direction !== direction || exchange.method !== wantedMethod) {
    return storageError(403, azure ? 'AuthenticationFailed' : 'SignatureDoesNotMatch', 'Signature did not match.');
  }
  if (Date.now() >= signed.expiresAt) {
    return storageError(
      403,
      azure ? 'AuthenticationFailed' : 'AccessDenied',
      azure ? 'Signed expiry time has passed.' : 'Request has expired',
    );
  }
  if (exchange.headers.authorization !== undefined) {
    return azure
      ? storageError(
          400,
          'InvalidAuthenticationInfo',
          'Authentication information is not given in the correct format. Check the value of Authorization header.',
        )
      : storageError(
          400,
          'InvalidArgument',
          'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
        );
  }
  if (direction === 'download') {
    const bytes = state.store.artifact(signed.path);
    if (bytes === undefined) return storageError(404, azure ? 'BlobNotFound' : 'NoSuchKey', 'The specified blob does not exist.');
    return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: bytes };
  }
  if (azure && exchange.headers['x-ms-blob-type'] !== 'BlockBlob') {
    return storageError(
      400,
      'MissingRequiredHeader',
      'An HTTP header that is mandatory for this request is not specified: x-ms-blob-type.',
    );
  }
  state.store.putArtifact(signed.path, exchange.body);
  state.uploads.push({ traceId: signed.traceId, headers: { ...exchange.headers } });
  return { status: azure ? 201 : 200 };
}

/** The Unity Catalog OTLP route (preview): protobuf only, into a named `<prefix>_otel_spans` table. */
function ucOtlp(state: State, exchange: Exchange): Reply {
  const table = exchange.headers['x-databricks-uc-table-name'];
  if (table === undefined || table === '') {
    throw new MlflowError('INVALID_PARAMETER_VALUE', 'Missing required header: X-Databricks-UC-Table-Name');
  }
  if (!(state.options.ucTables ?? []).includes(table)) {
    throw new MlflowError('NOT_FOUND', `Table '${table}' does not exist or you do not have permission to access it.`);
  }
  const contentType = exchange.headers['content-type']?.split(';')[0]?.trim();
  if (contentType !== 'application/x-protobuf') {
    throw new MlflowError(
      'INVALID_PARAMETER_VALUE',
      `Unsupported Content-Type: ${contentType ?? 'none'}. Only application/x-protobuf is supported.`,
    );
  }
  let request: OtlpResourceSpans[];
  try {
    const body = exchange.headers['content-encoding'] === 'gzip' ? gunzipSync(exchange.body) : exchange.body;
    request = decodeOtlpProtobuf(body);
  } catch (error) {
    if (error instanceof OtlpDecodeError || (error instanceof Error && 'code' in error)) {
      throw new MlflowError('INVALID_PARAMETER_VALUE', 'Invalid OTLP protobuf request body');
    }
    throw error;
  }
  const spans = request.flatMap((resourceSpans) =>
    resourceSpans.spans.map((span) =>
      storedSpan(span, Object.fromEntries(span.attributes.map((kv) => [kv.key, dumpJson(anyValueToJs(kv.value))]))),
    ),
  );
  state.ucSpans.push({ table, spans });
  return { status: 200, headers: { 'content-type': 'application/x-protobuf', server: 'databricks' } };
}

function apiRoute(state: State, exchange: Exchange): Reply {
  const d = state.dialect;
  const { method, pathname } = exchange;
  const is = (m: string, pattern: RegExp): RegExpExecArray | null => (method === m ? pattern.exec(pathname) : null);
  if (is('GET', /^\/api\/2\.0\/mlflow\/experiments\/get-by-name$/)) return getExperimentByName(d, exchange);
  if (is('POST', /^\/api\/2\.0\/mlflow\/experiments\/create$/)) return createExperiment(d, exchange);
  if (is('POST', /^\/api\/2\.0\/mlflow\/experiments\/search$/)) return searchExperiments(d, exchange);
  if (is('GET', /^\/api\/2\.0\/mlflow\/experiments\/get$/)) return getExperiment(d, exchange);
  if (is('POST', /^\/api\/2\.0\/mlflow\/experiments\/delete$/)) return deleteExperiment(d, exchange);
  if (is('POST', /^\/api\/2\.0\/mlflow\/experiments\/restore$/)) return restoreExperiment(d, exchange);
  if (is('POST', /^\/api\/3\.0\/mlflow\/traces$/)) return startTraceV3(d, exchange);
  if (is('POST', /^\/api\/3\.0\/mlflow\/traces\/search$/)) return searchTracesV3(d, exchange);
  if (is('GET', /^\/api\/2\.0\/mlflow\/runs\/get$/)) return getRun(d, exchange);
  if (is('POST', /^\/api\/2\.0\/mlflow\/runs\/create$/)) return createRun(d, exchange);
  if (is('POST', /^\/api\/2\.0\/mlflow\/traces\/link-to-run$/)) return linkTracesToRun(d, exchange);
  const credentials = is('GET', /^\/api\/[23]\.0\/mlflow\/traces\/([^/]+)\/credentials-for-data-(upload|download)$/);
  if (credentials)
    return traceCredentials(state, decodeURIComponent(credentials[1] ?? ''), credentials[2] === 'upload' ? 'upload' : 'download');
  // Spans of experiment traces are read as traces.json here; traces/get and batchGet are self-hosted only.
  const traceInfo = is('GET', /^\/api\/3\.0\/mlflow\/traces\/([^/]+)$/);
  if (traceInfo && traceInfo[1] !== 'get' && traceInfo[1] !== 'batchGet') return getTraceInfoV3(d, decodeURIComponent(traceInfo[1] ?? ''));
  if (is('POST', /^\/api\/2\.0\/otel\/v1\/traces$/)) return ucOtlp(state, exchange);
  return databricksJson(404, {
    error_code: 'ENDPOINT_NOT_FOUND',
    message: `No API found for '${method} ${pathname.replace(/^\/api\/\d\.\d/, '')}'`,
  });
}

function route(state: State, exchange: Exchange): Reply {
  const signed = /^\/signed-(upload|download)\/([0-9a-f]+)$/.exec(exchange.pathname);
  if (signed !== null) return signedStorage(state, exchange, signed[1] === 'upload' ? 'upload' : 'download', signed[2] ?? '');
  if (exchange.method === 'POST' && exchange.pathname === '/oidc/v1/token') return oauthToken(state, exchange);
  if (!exchange.pathname.startsWith('/api/')) {
    return {
      status: 404,
      headers: { 'content-type': 'text/html; charset=utf-8', server: 'databricks' },
      body: '<html><body>Not Found</body></html>',
    };
  }
  const refusal = authRefusal(state, exchange);
  if (refusal !== undefined) return refusal;
  try {
    return apiRoute(state, exchange);
  } catch (error) {
    if (error instanceof MlflowError) return databricksError(error);
    throw error;
  }
}

function isWorkspaceFolder(path: string): boolean {
  return /^\/(?:Workspace\/)?(?:Shared|Users\/[^/]+)$/.test(path);
}

export async function startFakeDatabricks(options: FakeDatabricksOptions = {}): Promise<FakeDatabricks> {
  let nextId = 0;
  const store = new TraceStore({
    // Workspace object ids: 16-digit numbers.
    nextExperimentId: () => String(1_234_567_890_123_000 + 7919 * ++nextId),
    artifactLocation: (id) => `dbfs:/databricks/mlflow-tracking/${id}`,
  });
  const dialect: RestDialect = {
    store,
    errorClasses: false,
    messages: {
      noExperimentId: (id) => `Node ID ${id} does not exist.`,
      noExperimentName: (name) => `Node ${name} does not exist.`,
      duplicateExperiment: (name) => `Node named '${name.split('/').pop() ?? name}' already exists`,
      startTraceNoExperiment: (id) => `Node ID ${id} does not exist.`,
    },
    checkNewExperimentName: (name) => {
      if (!name.startsWith('/')) {
        return new MlflowError(
          'INVALID_PARAMETER_VALUE',
          `Got an invalid experiment name '${name}'. An experiment name must be an absolute path within the Databricks workspace, e.g. '/Users/<some-username>/my-experiment'.`,
        );
      }
      const parent = name.slice(0, name.lastIndexOf('/'));
      return isWorkspaceFolder(parent)
        ? undefined
        : new MlflowError('RESOURCE_DOES_NOT_EXIST', `Parent directory ${parent} does not exist.`);
    },
    traceArtifactLocation: (experiment, traceId) => `${experiment.artifactLocation}/traces/${traceId}/artifacts`,
    resendTrace: 'update',
  };
  const requests: RecordedRequest[] = [];
  const state: State = {
    options,
    url: '',
    store,
    dialect,
    tokens: new Map(),
    signedUrls: new Map(),
    uploads: [],
    ucSpans: [],
    issuedTokens: [],
  };
  const server = await listen(serveRecorded(requests, (exchange) => route(state, exchange)));
  state.url = server.url;
  return {
    url: server.url,
    store,
    requests,
    issuedTokens: state.issuedTokens,
    expireAllTokens: () => {
      for (const token of state.tokens.keys()) state.tokens.set(token, 0);
    },
    uploads: state.uploads,
    ucSpans: state.ucSpans,
    createExperiment: (name) => store.createExperiment(name).experimentId,
    close: () => server.close(),
  };
}
