import { ExitCode, ExpectedError } from '../errors.ts';
import { parseErrorBody } from '../http-client/error-body.ts';
import type { MlflowHttp } from './http.ts';

/** `GET /version`: plain text such as `3.8.1`. */
export async function getServerVersion(http: MlflowHttp): Promise<string> {
  const text = await http.request<string>({ method: 'GET', path: '/version', responseType: 'text' });
  const version = text.trim();
  if (!/^\d+\.\d+/.test(version)) throw notMlflow(http, '/version', text, 'a version number');
  return version;
}

/** `GET /health` answers `OK` on every MLflow server. */
export async function checkHealth(http: MlflowHttp): Promise<void> {
  const text = await http.request<string>({ method: 'GET', path: '/health', responseType: 'text' });
  if (text.trim() !== 'OK') throw notMlflow(http, '/health', text, '"OK"');
}

function notMlflow(http: MlflowHttp, path: string, text: string, expected: string): ExpectedError {
  const got = text.trim() === '' ? 'an empty body' : parseErrorBody(200, text).detail;
  return new ExpectedError(`GET ${path} answered 200 with ${got} instead of ${expected}`, {
    exitCode: ExitCode.unreachable,
    hint: `Is ${http.baseUrl} an MLflow tracking server? The tracking URI must be its base URL; a login page means a proxy wants you to sign in.`,
  });
}

/** How a server version behaves on the wire (mlflow-protocol.md, "How the servers differ"). */
export interface ServerCapabilities {
  version: string;
  otlpProtobuf: boolean;
  otlpGzip: boolean;
  otlpJson: boolean;
  /** `Content-Type: application/x-protobuf; charset=…` is accepted. */
  otlpCharsetOk: boolean;
  /** One bad trace in an OTLP request loses the whole request. */
  allOrNothingBatches: boolean;
  unknownExperimentStatus: 404 | 422;
  /** Which of `session.id` / `user.id` the server copies into trace metadata. */
  sessionMetadata: 'none' | 'session' | 'session+user';
  /** That metadata is stored JSON-quoted (`"\"s-1\""`). */
  metadataJsonQuoted: boolean;
  /** Root-span `mlflow.traceTag.<k>` attributes become trace tags. */
  traceTagsFromRoot: boolean;
  /** `x-mlflow-run-id` on `/v1/traces` links the ingested traces to that run; older servers ignore it. */
  otlpRunHeader: boolean;
}

type Behaviour = Omit<ServerCapabilities, 'version'>;

const MLFLOW_3_6: Behaviour = {
  otlpProtobuf: true,
  otlpGzip: false,
  otlpJson: false,
  otlpCharsetOk: false,
  allOrNothingBatches: false,
  unknownExperimentStatus: 422,
  sessionMetadata: 'none',
  metadataJsonQuoted: false,
  traceTagsFromRoot: false,
  otlpRunHeader: false,
};

/**
 * Observed rows, each as its change from the row before and applying from its version up to the
 * next row. The dev builds were cut from main just after a release, so a plain 3.12.0 gets the
 * 3.11 row: its behaviour is unobserved.
 */
const CHANGES: readonly { since: string; change: Partial<Behaviour> }[] = [
  { since: '3.6.0', change: {} },
  { since: '3.7.0', change: { otlpGzip: true, sessionMetadata: 'session', metadataJsonQuoted: true } },
  { since: '3.11.0', change: { allOrNothingBatches: true, unknownExperimentStatus: 404 } },
  { since: '3.12.1.dev0', change: { otlpJson: true, otlpCharsetOk: true, sessionMetadata: 'session+user', traceTagsFromRoot: true } },
  { since: '3.14.1.dev0', change: { metadataJsonQuoted: false, otlpRunHeader: true } },
];

const ROWS = CHANGES.reduce<{ since: string; behaviour: Behaviour }[]>((rows, { since, change }) => {
  rows.push({ since, behaviour: { ...(rows.at(-1)?.behaviour ?? MLFLOW_3_6), ...change } });
  return rows;
}, []);

/** Unknown or unparseable versions get the newest row; below 3.6 there is no OTLP route. */
export function capabilitiesFor(version: string): ServerCapabilities {
  const row = ROWS.findLast((r) => compareVersions(version, r.since) >= 0);
  return row ? { version, ...row.behaviour } : { version, ...MLFLOW_3_6, otlpProtobuf: false };
}

interface ParsedVersion {
  release: number[];
  /** [-1] for a bare dev release (before any pre-release), [rank, n] for a/b/rc, [3] for final. */
  pre: [number, number];
  post: number;
  dev: number;
}

const PRE_RANK: Record<string, number> = { a: 0, alpha: 0, b: 1, beta: 1, c: 2, rc: 2, pre: 2, preview: 2 };
const VERSION =
  /^v?(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?(?:[-_.]?(?:post|rev|r)[-_.]?(\d*))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+[a-z0-9.]+)?$/i;

function parseVersion(text: string): ParsedVersion | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  const [, release, preKind, preN, postN, devN] = m;
  const hasDev = devN !== undefined;
  const hasPost = postN !== undefined;
  return {
    release: release!.split('.').map(Number),
    pre: preKind ? [PRE_RANK[preKind.toLowerCase()]!, Number(preN || 0)] : hasDev && !hasPost ? [-1, 0] : [3, 0],
    post: hasPost ? Number(postN || 0) : -1,
    dev: hasDev ? Number(devN || 0) : Number.POSITIVE_INFINITY,
  };
}

/**
 * PEP 440 order (MLflow's versions): `3.12.0 < 3.12.1.dev0 < 3.12.1rc1 < 3.12.1 < 3.12.1.post1`.
 * An unparseable version sorts after every parseable one, as a newer build would.
 */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a);
  const pb = parseVersion(b);
  if (!pa || !pb) return pa ? -1 : pb ? 1 : a.localeCompare(b);
  const length = Math.max(pa.release.length, pb.release.length);
  for (let i = 0; i < length; i++) {
    const diff = (pa.release[i] ?? 0) - (pb.release[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  const keys: [number, number][] = [
    [pa.pre[0], pb.pre[0]],
    [pa.pre[1], pb.pre[1]],
    [pa.post, pb.post],
    [pa.dev, pb.dev],
  ];
  for (const [x, y] of keys) if (x !== y) return x < y ? -1 : 1;
  return 0;
}
