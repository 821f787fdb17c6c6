import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { ResolvedConfig } from '../../src/config/types.ts';
import { encodeLocalTrace } from '../../src/destination/encode-trace.ts';
import { resolveDestination } from '../../src/destination/resolve.ts';
import type { ResolvedDestination } from '../../src/destination/resolved-destination.ts';
import { targetKey, type CollectorTarget, type ExperimentTarget } from '../../src/destination/target.ts';
import { createMlflowHttp } from '../../src/mlflow/http.ts';
import { decodeOtlpJson, decodeOtlpProtobuf, type OtlpResourceSpans } from '../../src/otlp/otlp-decode.ts';
import { Outbox } from '../../src/pipeline/outbox.ts';
import { TraceStore } from '../../src/pipeline/store/trace-store.ts';
import { toMlflowSpan } from '../../src/relay/translate-span.ts';
import type { LocalSpan } from '../../src/spans/local-span.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { MLFLOW_VERSIONS, startFakeMlflow, type MlflowVersion } from '../fakes/fake-mlflow.ts';

/**
 * What every destination holds of a fixed set of stored-then-delivered traces (serve's, with streaming,
 * tools and errors; the SDK's with a session; relayed ones; one completed by a late span), recorded
 * once (GOLDEN_RECORD=1) and held byte for byte: how the store keeps a trace and how delivery
 * encodes it may change, what reaches MLflow may not.
 */

const GOLDEN = new URL('./golden/', import.meta.url);
const RECORD = process.env.GOLDEN_RECORD === '1';

interface Inputs {
  serve: LocalSpan[][];
  sdk: LocalSpan[][];
  relayed: LocalSpan[][];
}

let root: string;
let inputs: Inputs;
let expected: Record<string, unknown>;
const recorded: Record<string, unknown> = {};

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-golden-'));
  inputs = JSON.parse(await readFile(new URL('input-traces.json', GOLDEN), 'utf8')) as Inputs;
  expected = RECORD ? {} : (JSON.parse(await readFile(new URL('expected.json', GOLDEN), 'utf8')) as Record<string, unknown>);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
  if (RECORD) await writeFile(new URL('expected.json', GOLDEN), `${JSON.stringify(recorded, null, 1)}\n`);
});

let stores = 0;

/**
 * Stores the traces as the pipeline would (the first one's last child arriving late, on its own), then
 * delivers them. `oldStore`: they wait instead in a store file written by the previous version (spans as
 * JSON, store version 3), which this one opens, brings up to date, and delivers from.
 */
async function storeThenDeliver(destination: ResolvedDestination, options: { oldStore?: boolean } = {}): Promise<void> {
  const dir = join(root, `store-${++stores}`);
  const key = destination.key;
  let store: TraceStore;
  if (options.oldStore) {
    await mkdir(dir);
    await copyFile(new URL('store-version-3.db', GOLDEN), join(dir, 'traces.db'));
    const db = new DatabaseSync(join(dir, 'traces.db'));
    db.prepare('UPDATE traces SET destination = ?').run(key);
    db.close();
    store = TraceStore.open(dir);
  } else {
    store = TraceStore.open(dir);
    const [first, ...others] = inputs.serve;
    const write = (spans: LocalSpan[], origin: string) => store.writes.write([{ ...encodeLocalTrace(spans), origin, destination: key }]);
    write(first!.slice(0, -1), 'serve');
    for (const spans of [...others, ...inputs.sdk]) write(spans, 'serve');
    for (const spans of inputs.relayed) write(spans.map(toMlflowSpan), 'relay');
    write([first!.at(-1)!], 'serve');
  }
  const outbox = new Outbox({ traces: store, auth: { kind: 'none' } });
  outbox.addDestination(destination);
  await outbox.flush(20_000);
  const stats = outbox.stats;
  await outbox.close(1000);
  assert.deepEqual([stats.delivered, stats.dead], [inputs.serve.length + inputs.sdk.length + inputs.relayed.length, 0]);
}

function config(uri: string, encoding: 'protobuf' | 'json'): ResolvedConfig {
  const source = { kind: 'default' } as const;
  return {
    destination: { kind: 'mlflow', trackingUri: { value: uri, source } },
    auth: { kind: 'none' },
    experiment: { kind: 'name', name: { value: 'x', source } },
    exportPath: { value: 'auto', source },
    otlpEncoding: { value: encoding, source },
    serviceName: { value: 'test', source },
    resourceAttributes: { value: {}, source },
    relayExperiments: { value: {}, source },
    openai: {},
    llm: { captureContent: { value: true, source } },
    storeDir: { value: '/nonexistent/otel-mlflow-store', source },
    storeMaxBytes: { value: 1e9, source },
    tracing: { disabled: { value: false, source }, sampler: { value: 'parentbased_always_on', source } },
    files: {},
    entries: [],
    notices: [],
  };
}

/** JSON with bigints as decimal text and bytes as hex: a stable text to compare. */
function stable(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, item: unknown) => {
      if (typeof item === 'bigint') return item.toString();
      if (item instanceof Map) return Object.fromEntries(item);
      if (item && typeof item === 'object' && (item as { type?: unknown }).type === 'Buffer')
        return Buffer.from(item as never).toString('hex');
      return item;
    }),
  );
}

/**
 * Held as the SHA-256 of the canonical JSON text of what the destination holds; on a difference the
 * text is written beside the temporary directory's other files, to compare with a recording of the
 * code before the change.
 */
function check(name: string, value: unknown, replace: [string, string] = ['', '']): void {
  const text = replace[0] === '' ? JSON.stringify(stable(value)) : JSON.stringify(stable(value)).replaceAll(replace[0], replace[1]);
  const hash = createHash('sha256').update(text).digest('hex');
  if (RECORD) {
    recorded[name] = hash;
    return;
  }
  if (hash === expected[name]) return;
  const actual = join(tmpdir(), `otel-mlflow-golden-${name.replaceAll(/[^\w.-]+/g, '-')}.json`);
  writeFileSync(actual, text);
  assert.fail(`${name}: what the destination holds changed (it is in ${actual})`);
}

async function deliverToMlflow(
  name: string,
  version: MlflowVersion,
  options: { backend?: 'sql' | 'file'; encoding?: 'protobuf' | 'json'; oldStore?: boolean },
): Promise<void> {
  const server = await startFakeMlflow({ version, ...(options.backend && { backend: options.backend }) });
  try {
    const experimentId = server.createExperiment('golden');
    const http = createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }, { host: server.url }) });
    const target: ExperimentTarget = {
      kind: 'mlflow',
      server: server.url,
      experiment: { kind: 'id', id: { value: experimentId, source: { kind: 'default' } } },
    };
    const destination = await resolveDestination(target, config(server.url, options.encoding ?? 'protobuf'), { http });
    await storeThenDeliver(destination, { oldStore: options.oldStore === true });
    const traces = server.store.traces(experimentId).sort((a, b) => (a.info.trace_id < b.info.trace_id ? -1 : 1));
    // A file store names experiments at random: the id is the one thing that may differ.
    check(
      name,
      traces.map((trace) => ({ ...trace, spans: [...trace.spans].sort((a, b) => (a.spanId < b.spanId ? -1 : 1)) })),
      options.backend === 'file' ? [experimentId, '<experiment>'] : ['', ''],
    );
  } finally {
    await server.close();
  }
}

/** Every span a collector received, with its resource and scope, in id order: how requests group them is the sender's business. */
function receivedSpans(requests: OtlpResourceSpans[][]): unknown {
  const spans = requests
    .flat()
    .flatMap((resourceSpans) => resourceSpans.spans.map((span) => ({ resource: resourceSpans.resourceAttributes, ...span })));
  return spans.sort((a, b) => Buffer.compare(Buffer.concat([a.traceId, a.spanId]), Buffer.concat([b.traceId, b.spanId])));
}

describe('what reaches each destination of stored-then-delivered traces', () => {
  for (const version of MLFLOW_VERSIONS) {
    it(`MLflow ${version} over OTLP`, async () => {
      await deliverToMlflow(`mlflow ${version} otlp`, version, {});
    });
  }

  for (const version of ['3.6.0', '3.14.1.dev0'] as const) {
    it(`MLflow ${version} over OTLP, from a store the previous version wrote`, async () => {
      await deliverToMlflow(`mlflow ${version} otlp`, version, { oldStore: true });
    });
  }

  it('MLflow 3.8.1 file store, over REST, from a store the previous version wrote', async () => {
    await deliverToMlflow('mlflow 3.8.1 rest', '3.8.1', { backend: 'file', oldStore: true });
  });

  it('MLflow 3.14 over OTLP/JSON', async () => {
    await deliverToMlflow('mlflow 3.14.1.dev0 otlp-json', '3.14.1.dev0', { encoding: 'json' });
  });

  for (const version of ['3.8.1', '3.14.1.dev0'] as const) {
    it(`MLflow ${version} file store, over REST`, async () => {
      await deliverToMlflow(`mlflow ${version} rest`, version, { backend: 'file' });
    });
  }

  for (const encoding of ['protobuf', 'json'] as const) {
    it(`a collector, OTLP ${encoding}`, async () => {
      const received: OtlpResourceSpans[][] = [];
      const server = createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          let body = Buffer.concat(chunks);
          if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
          received.push(
            request.headers['content-type'] === 'application/json'
              ? decodeOtlpJson(JSON.parse(body.toString('utf8')))
              : decodeOtlpProtobuf(body),
          );
          response.writeHead(200, { 'content-type': request.headers['content-type'] }).end(encoding === 'json' ? '{}' : '');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const address = server.address() as { port: number };
        const target: CollectorTarget = { kind: 'collector', endpoint: `http://127.0.0.1:${address.port}/v1/traces` };
        await storeThenDeliver({ kind: 'collector', target, key: targetKey(target), headers: {}, encoding, notes: [] });
        check(`collector ${encoding}`, receivedSpans(received));
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }
});
