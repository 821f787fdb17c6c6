import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import type { AuthSettings, ResolvedConfig } from '../../src/config/types.ts';
import { createAuthProvider } from '../../src/mlflow/auth.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import { capabilitiesFor } from '../../src/mlflow/server-info.ts';
import { startTracing } from '../../src/tracing/bootstrap.ts';
import { ExportLedger } from '../../src/tracing/export-ledger.ts';
import { chooseExportPlan } from '../../src/tracing/export-plan.ts';
import { OtlpTraceExporter } from '../../src/tracing/otlp-trace-exporter.ts';
import { RestTraceExporter } from '../../src/tracing/rest-trace-exporter.ts';
import { TraceGroupingProcessor } from '../../src/tracing/trace-grouping-processor.ts';
import { startFakeDatabricks } from '../fakes/fake-databricks.ts';
import { MLFLOW_VERSIONS, startFakeMlflow } from '../fakes/fake-mlflow.ts';
import { chatTrace } from './span-fixtures.ts';

const NONE: AuthSettings = { kind: 'none' };

function httpFor(url: string, auth: AuthSettings = NONE): MlflowHttp {
  return createMlflowHttp({ baseUrl: url, auth: createAuthProvider(auth, { host: url }) });
}

/** Real spans through the real grouping processor into the exporter under test. */
async function exportChatTraces(exporter: SpanExporter, count: number, options: { session?: string } = {}): Promise<void> {
  const processor = new TraceGroupingProcessor(exporter);
  const tracer = new TracerProvider({ spanProcessors: [processor] }).getTracer('test');
  for (let i = 0; i < count; i++) chatTrace(tracer, options);
  await processor.forceFlush();
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
    openai: {},
    llm: { captureContent: { value: true, source } },
    storeDir: { value: '/nonexistent/otel-mlflow-store', source },
    files: {},
    entries: [],
    notices: [],
    ...overrides,
  };
}

describe('OTLP export to each MLflow version', () => {
  for (const version of MLFLOW_VERSIONS) {
    it(`MLflow ${version}: one request per trace, JSON only where the server takes it, stored intact`, async () => {
      const server = await startFakeMlflow({ version });
      try {
        const experimentId = server.createExperiment('exp');
        const http = httpFor(server.url);
        const config = configFor(server.url, { otlpEncoding: { value: 'json', source: { kind: 'default' } } });
        const plan = await chooseExportPlan({ config, http, experimentId, capabilities: capabilitiesFor(version) });
        assert.equal(plan.kind, 'otlp');
        assert.ok(plan.kind === 'otlp');
        const ledger = new ExportLedger();
        await exportChatTraces(
          new OtlpTraceExporter({ http, path: '/v1/traces', headers: { 'x-mlflow-experiment-id': experimentId }, encoding: plan.encoding, gzip: plan.gzip, route: 'otlp', ledger }),
          2,
          { session: 'sess-1' },
        );
        assert.deepEqual(ledger.report(), { exported: 2, failed: 0, pending: 0, failures: [] });
        const posts = server.requests.filter((r) => r.method === 'POST' && r.path === '/v1/traces' && r.headers['x-mlflow-experiment-id'] === experimentId);
        assert.equal(posts.length, 2, 'one request per trace');
        const jsonAccepted = capabilitiesFor(version).otlpJson;
        for (const post of posts) {
          assert.equal(post.headers['content-type'], jsonAccepted ? 'application/json' : 'application/x-protobuf');
          assert.equal(post.headers['content-encoding'], version === '3.6.0' ? undefined : 'gzip');
        }
        const traces = server.store.traces(experimentId);
        assert.equal(traces.length, 2);
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

    it(`MLflow ${version}: an unknown experiment is a failed export with the server's reason`, async () => {
      const server = await startFakeMlflow({ version });
      try {
        const ledger = new ExportLedger();
        const http = httpFor(server.url);
        await exportChatTraces(
          new OtlpTraceExporter({ http, path: '/v1/traces', headers: { 'x-mlflow-experiment-id': '999999' }, encoding: 'protobuf', gzip: false, route: 'otlp', ledger }),
          1,
        );
        const report = ledger.report();
        assert.equal(report.failed, 1);
        assert.equal(report.failures[0]!.status, capabilitiesFor(version).unknownExperimentStatus);
        assert.match(report.failures[0]!.reason ?? '', /No Experiment with id=999999 exists/);
      } finally {
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
        const ledger = new ExportLedger();
        await exportChatTraces(new RestTraceExporter({ http: httpFor(server.url), experimentId, artifactUpload: 'mlflow-artifacts', ledger }), 1, { session: 's-9' });
        assert.equal(ledger.report().exported, 1, JSON.stringify(ledger.report().failures));
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
      const ledger = new ExportLedger();
      const exporter = new RestTraceExporter({ http: httpFor(workspace.url, auth), experimentId, artifactUpload: 'databricks-signed-url', ledger });
      await exportChatTraces(exporter, 1);
      workspace.expireAllTokens();
      await exportChatTraces(exporter, 1);
      assert.deepEqual(ledger.report().failures, []);
      assert.equal(ledger.report().exported, 2);
      assert.equal(workspace.issuedTokens.length, 2, 'a fresh token after the first expired');
      assert.equal(workspace.store.traces(experimentId).length, 2);
      assert.equal(workspace.uploads.length, 2);
    } finally {
      await workspace.close();
    }
  });
});

describe('tracing bootstrap', () => {
  it("reports on shutdown how many traces were exported and the server's reason for the rest", async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    try {
      const http = httpFor(server.url);
      const tracing = await startTracing({
        plan: { kind: 'otlp', http, experimentId: '424242', encoding: 'protobuf', gzip: true, notes: [] },
        serviceName: 'bootstrap-test',
      });
      chatTrace(tracing.tracer);
      const report = await tracing.shutdown(5_000);
      assert.equal(report.exported, 0);
      assert.equal(report.failed, 1);
      assert.equal(report.failures[0]!.status, 404);
      assert.match(report.failures[0]!.reason ?? '', /No Experiment with id=424242/);
      await assert.rejects(async () => {
        const again = await startTracing({ plan: { kind: 'otlp', http, experimentId: '1', encoding: 'protobuf', gzip: true, notes: [] }, serviceName: 'x' });
        await startTracing({ plan: { kind: 'otlp', http, experimentId: '1', encoding: 'protobuf', gzip: true, notes: [] }, serviceName: 'y' }).finally(() => again.shutdown(1000));
      }, /one tracer provider/);
    } finally {
      await server.close();
    }
  });
});
