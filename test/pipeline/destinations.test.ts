import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AuthSettings, ResolvedConfig } from '../../src/config/types.ts';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import { capabilitiesFor } from '../../src/mlflow/server-info.ts';
import { startTracing } from '../../src/runtime/start-tracing.ts';
import { isPassingFailure } from '../../src/destination/background-resolution.ts';
import { resolveDestination } from '../../src/destination/resolve.ts';
import type { ResolvedDestination, ResolvedExperiment } from '../../src/destination/resolved-destination.ts';
import { targetKey, type ExperimentTarget } from '../../src/destination/target.ts';
import type { PipelineReport } from '../../src/pipeline/trace-pipeline.ts';
import { startFakeDatabricks } from '../fakes/fake-databricks.ts';
import { MLFLOW_VERSIONS, startFakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFaultyProxy } from '../fakes/faulty-proxy.ts';
import { chatTrace } from '../tracing/span-fixtures.ts';

let root: string;
let stores = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-destinations-'));
});
after(() => rm(root, { recursive: true, force: true }));

const NONE: AuthSettings = { kind: 'none' };

function httpFor(url: string, auth: AuthSettings = NONE): MlflowHttp {
  return createMlflowHttp({ baseUrl: url, auth: createAuthProvider(auth, { host: url }) });
}

/** Real spans through the one tracer provider and the whole pipeline (store, deliverer, destination). */
async function deliverChatTraces(
  destination: ResolvedDestination,
  count: number,
  options: { session?: string; batches?: number; auth?: AuthSettings } = {},
): Promise<PipelineReport> {
  const tracing = await startTracing({
    target: destination.target,
    destination,
    ...(options.auth && { auth: options.auth }),
    storeDir: join(root, `store-${++stores}`),
    origin: 'test',
    serviceName: 'test',
  });
  for (let batch = 0; batch < (options.batches ?? 1); batch++) {
    for (let i = 0; i < count; i++) chatTrace(tracing.tracer, options);
    await tracing.flush(10_000);
  }
  return (await tracing.shutdown(10_000))!;
}

/** An experiment as a resolver would hand it over, for servers and experiments a test sets up by hand. */
function experimentDestination(
  kind: 'mlflow' | 'databricks',
  server: string,
  experimentId: string,
  route: ResolvedExperiment['route'],
): ResolvedExperiment {
  const target: ExperimentTarget = { kind, server, experiment: { kind: 'id', id: { value: experimentId, source: { kind: 'default' } } } };
  return { kind, target, key: targetKey(target), experiment: { id: experimentId }, route, notes: [] };
}

function configFor(uri: string, overrides: Partial<Pick<ResolvedConfig, 'exportPath' | 'otlpEncoding'>> = {}): ResolvedConfig {
  const source = { kind: 'default' } as const;
  return {
    destination: { kind: 'mlflow', trackingUri: { value: uri, source } },
    auth: NONE,
    experiment: { kind: 'name', name: { value: 'x', source } },
    exportPath: { value: 'auto', source },
    otlpEncoding: { value: 'protobuf', source },
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
    ...overrides,
  };
}

describe('OTLP export to each MLflow version', () => {
  for (const version of MLFLOW_VERSIONS) {
    it(`MLflow ${version}: many traces per request, JSON only where the server takes it, stored intact`, async () => {
      const server = await startFakeMlflow({ version });
      try {
        const experimentId = server.createExperiment('exp');
        const http = httpFor(server.url);
        const config = configFor(server.url, { otlpEncoding: { value: 'json', source: { kind: 'default' } } });
        const target: ExperimentTarget = {
          kind: 'mlflow',
          server: server.url,
          experiment: { kind: 'id', id: { value: experimentId, source: { kind: 'default' } } },
        };
        const destination = await resolveDestination(target, config, { http });
        assert.ok(destination.kind === 'mlflow' && destination.route.via === 'otlp');
        const report = await deliverChatTraces(destination, 5, { session: 'sess-1' });
        assert.deepEqual([report.delivered, report.pending, report.dead], [5, 0, 0]);
        const posts = server.requests.filter(
          (r) => r.method === 'POST' && r.path === '/v1/traces' && r.headers['x-mlflow-experiment-id'] === experimentId,
        );
        assert.equal(posts.length, 1, 'five traces in one request');
        const jsonAccepted = capabilitiesFor(version).otlpJson;
        for (const post of posts) {
          assert.equal(post.headers['content-type'], jsonAccepted ? 'application/json' : 'application/x-protobuf');
          assert.equal(post.headers['content-encoding'], version === '3.6.0' ? undefined : 'gzip');
        }
        const traces = server.store.traces(experimentId);
        assert.equal(traces.length, 5);
        for (const trace of traces) {
          assert.equal(trace.info.state, 'OK');
          assert.equal(trace.info.request_preview !== undefined, true);
          assert.deepEqual(trace.spans.map((s) => s.name).sort(), ['agent', 'calculator', 'llm']);
          const llm = trace.spans.find((s) => s.name === 'llm')!;
          assert.equal(llm.attributes['mlflow.spanType'], 'LLM', 'span types are plain strings, searchable');
        }
      } finally {
        await server.close();
      }
    });

    it(`MLflow ${version}: session and user are plain MLflow session and user metadata, found by a metadata filter`, async () => {
      const server = await startFakeMlflow({ version });
      try {
        const experimentId = server.createExperiment('sessions');
        const http = httpFor(server.url);
        const target: ExperimentTarget = {
          kind: 'mlflow',
          server: server.url,
          experiment: { kind: 'id', id: { value: experimentId, source: { kind: 'default' } } },
        };
        const destination = await resolveDestination(target, configFor(server.url), { http });
        assert.ok(destination.kind === 'mlflow' && destination.route.via === 'otlp');
        const report = await deliverChatTraces(destination, 3, { session: 's1' });
        assert.deepEqual([report.delivered, report.pending, report.dead], [3, 0, 0]);
        assert.equal(
          server.requests.filter(
            (r) => r.method === 'POST' && r.path === '/v1/traces' && r.headers['x-mlflow-experiment-id'] === experimentId,
          ).length,
          1,
          'still one OTLP request for the three traces',
        );

        const traces = server.store.traces(experimentId);
        assert.equal(traces.length, 3);
        for (const trace of traces) {
          assert.equal(trace.info.trace_metadata?.['mlflow.trace.session'], 's1');
          assert.equal(trace.info.trace_metadata?.['mlflow.trace.user'], 'u-1');
          assert.equal(trace.info.state, 'OK');
          assert.deepEqual(trace.spans.map((s) => s.name).sort(), ['agent', 'calculator', 'llm'], 'the spans are where MLflow reads them');
        }
        const found = await http.request<{ traces?: { trace_id: string }[] }>({
          method: 'POST',
          path: '/api/3.0/mlflow/traces/search',
          json: {
            locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
            filter: "metadata.`mlflow.trace.session` = 's1'",
          },
        });
        assert.deepEqual(found.traces?.map((t) => t.trace_id).sort(), traces.map((t) => t.info.trace_id).sort());
        const byUser = await http.request<{ traces?: unknown[] }>({
          method: 'POST',
          path: '/api/3.0/mlflow/traces/search',
          json: {
            locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: experimentId } }],
            filter: "metadata.`mlflow.trace.user` = 'u-1'",
          },
        });
        assert.equal(byUser.traces?.length, 3);
      } finally {
        await server.close();
      }
    });

    it(`MLflow ${version}: an experiment the server lacks is no fault of the trace: it waits, with the server's reason`, async () => {
      const server = await startFakeMlflow({ version });
      try {
        const report = await deliverChatTraces(
          experimentDestination('mlflow', server.url, '999999', { via: 'otlp', encoding: 'protobuf', gzip: false }),
          1,
        );
        assert.deepEqual([report.delivered, report.pending, report.dead], [0, 1, 0]);
        assert.equal(report.lastFailure?.status, capabilitiesFor(version).unknownExperimentStatus);
        assert.match(report.lastFailure?.answer ?? '', /No Experiment with id=999999 exists/);
      } finally {
        await server.close();
      }
    });
  }
});

describe('choosing the route', () => {
  for (const status of [503, 502, 429]) {
    it(`a ${status} on /v1/traces while resolving is asked again later, not taken for a server without OTLP`, async () => {
      const server = await startFakeMlflow({ version: '3.14.1.dev0' });
      const proxy = await startFaultyProxy(server.url);
      try {
        const config = configFor(proxy.url);
        const target: ExperimentTarget = { kind: 'mlflow', server: proxy.url, experiment: config.experiment };
        proxy.mode = { kind: 'answer', status, path: '/v1/traces', times: 1 };
        await assert.rejects(resolveDestination(target, config, { http: httpFor(proxy.url) }), (error: unknown) => {
          assert.ok(isPassingFailure(error), String(error));
          assert.match(String(error), new RegExp(`POST /v1/traces failed: HTTP ${status}`));
          return true;
        });
        const resolved = await resolveDestination(target, config, { http: httpFor(proxy.url) });
        assert.equal(resolved.kind === 'mlflow' && resolved.route.via, 'otlp');
      } finally {
        await proxy.close();
        await server.close();
      }
    });
  }
});

describe('REST export', () => {
  for (const backend of ['sql', 'file'] as const) {
    it(`logs a trace that MLflow (${backend} store) shows with spans, previews and token usage`, async () => {
      const server = await startFakeMlflow({ version: '3.8.1', backend });
      try {
        const experimentId = server.createExperiment('rest');
        const report = await deliverChatTraces(
          experimentDestination('mlflow', server.url, experimentId, { via: 'rest', artifactUpload: 'mlflow-artifacts' }),
          1,
          { session: 's-9' },
        );
        assert.equal(report.delivered, 1, JSON.stringify(report));
        const [trace] = server.store.traces(experimentId);
        assert.ok(trace);
        assert.equal(trace.loggedVia, 'rest');
        assert.equal(trace.info.request_preview, 'What is 2+2?');
        assert.equal(trace.info.response_preview, 'It is 4.');
        assert.equal(JSON.parse(trace.info.trace_metadata!['mlflow.trace.tokenUsage']!).total_tokens, 17);
        assert.equal(trace.info.trace_metadata!['mlflow.trace.session'], 's-9');
        assert.deepEqual(trace.spans.map((s) => s.name).sort(), ['agent', 'calculator', 'llm']);
      } finally {
        await server.close();
      }
    });
  }

  it('keeps working when the OAuth token expires mid-run (Databricks)', async () => {
    const client = { clientId: 'sp-1', clientSecret: 'secret-value-0123456789' };
    const workspace = await startFakeDatabricks({ oauth: client });
    try {
      const experimentId = workspace.createExperiment('/Users/sp/rest');
      const auth: AuthSettings = {
        kind: 'databricks-oauth-m2m',
        clientId: { value: client.clientId, source: { kind: 'default' } },
        clientSecret: { value: client.clientSecret, source: { kind: 'default' } },
      };
      const destination = experimentDestination('databricks', workspace.url, experimentId, {
        via: 'rest',
        artifactUpload: 'databricks-signed-url',
      });
      const tracing = await startTracing({
        target: destination.target,
        destination,
        auth,
        storeDir: join(root, `store-${++stores}`),
        origin: 'test',
        serviceName: 'test',
      });
      chatTrace(tracing.tracer);
      await tracing.flush(10_000);
      workspace.expireAllTokens();
      chatTrace(tracing.tracer);
      const report = (await tracing.shutdown(10_000))!;
      assert.deepEqual(report.deadLetters, []);
      assert.equal(report.delivered, 2);
      assert.equal(workspace.issuedTokens.length, 2, 'a fresh token after the first expired');
      assert.equal(workspace.store.traces(experimentId).length, 2);
      assert.equal(workspace.uploads.length, 2);
    } finally {
      await workspace.close();
    }
  });
});

describe('tracing bootstrap', () => {
  it("reports on shutdown what was delivered and the server's reason for the rest", async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    try {
      const destination = experimentDestination('mlflow', server.url, '424242', { via: 'otlp', encoding: 'protobuf', gzip: true });
      const storeDir = join(root, `store-${++stores}`);
      const options = { target: destination.target, destination, storeDir, origin: 'test' };
      const tracing = await startTracing({ ...options, serviceName: 'bootstrap-test' });
      chatTrace(tracing.tracer);
      const report = (await tracing.shutdown(5_000))!;
      assert.deepEqual([report.delivered, report.pending, report.dead], [0, 1, 0]);
      assert.equal(report.lastFailure?.status, 404);
      assert.match(report.lastFailure?.answer ?? '', /No Experiment with id=424242/);
      await assert.rejects(async () => {
        const again = await startTracing({ ...options, serviceName: 'x' });
        await startTracing({ ...options, serviceName: 'y' }).finally(() => again.shutdown(1000));
      }, /one tracer provider/);
    } finally {
      await server.close();
    }
  });

  it('with OTEL_SDK_DISABLED records nothing and stores nothing', async () => {
    const storeDir = join(root, `store-${++stores}`);
    const tracing = await startTracing({ target: undefined, storeDir, origin: 'test', serviceName: 'x', disabled: true });
    const span = tracing.tracer.startSpan('nothing');
    assert.equal(span.isRecording(), false);
    span.end();
    assert.equal(tracing.pipeline, undefined);
    assert.equal(await tracing.shutdown(), undefined);
  });

  it('honours OTEL_TRACES_SAMPLER: always_off records nothing, traceidratio 0 nothing, parent-based follows the caller', async () => {
    const { createSampler } = await import('../../src/runtime/start-tracing.ts');
    const { SamplingDecision } = await import('@opentelemetry/sdk-trace');
    const { context, trace, TraceFlags, ROOT_CONTEXT } = await import('@opentelemetry/api');
    const id = '0af7651916cd43dd8448eb211c80319c';
    const decide = (name: Parameters<typeof createSampler>[0], parentSampled?: boolean) => {
      const parent =
        parentSampled === undefined
          ? ROOT_CONTEXT
          : trace.setSpanContext(context.active(), {
              traceId: id,
              spanId: 'b7ad6b7169203331',
              traceFlags: parentSampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
              isRemote: true,
            });
      return createSampler(name).shouldSample(parent, id, 'x', 0, {}, []).decision;
    };
    assert.equal(decide({ name: 'always_off' }), SamplingDecision.NOT_RECORD);
    assert.equal(decide({ name: 'traceidratio', arg: 0 }), SamplingDecision.NOT_RECORD);
    assert.equal(decide({ name: 'traceidratio', arg: 1 }), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide({ name: 'parentbased_always_on' }, false), SamplingDecision.NOT_RECORD);
    assert.equal(decide({ name: 'parentbased_always_off' }, true), SamplingDecision.RECORD_AND_SAMPLED);
  });
});
