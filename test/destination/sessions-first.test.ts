import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAuthProvider } from '../../src/workspace-auth/auth.ts';
import { createMlflowHttp, type MlflowHttp } from '../../src/mlflow/http.ts';
import { capabilitiesFor } from '../../src/mlflow/server-info.ts';
import { otlpSender } from '../../src/destination/senders/otlp-sender.ts';
import { ingestKeepsSessionsPlain, registerSessionsFirst } from '../../src/destination/senders/sessions-first.ts';
import type { OutgoingTrace } from '../../src/destination/sender.ts';
import { encodeTrace } from '../../src/destination/encode-trace.ts';
import { MLFLOW_VERSIONS, startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { chatTrace, memoryTracer } from '../tracing/span-fixtures.ts';

function outgoing(options: { session?: string }, attempts = 0): OutgoingTrace {
  const { tracer, finished } = memoryTracer();
  chatTrace(tracer, options);
  const { hex, otlp } = encodeTrace(finished());
  return { hex, traceId: `tr-${hex}`, otlp, attempts };
}

function httpFor(server: FakeMlflow): MlflowHttp {
  return createMlflowHttp({ baseUrl: server.url, auth: createAuthProvider({ kind: 'none' }) });
}

const registrations = (server: FakeMlflow) =>
  server.requests.filter((r) => r.method === 'POST' && r.path === '/api/3.0/mlflow/traces').length;

describe('sessions registered before their spans', () => {
  it('is needed everywhere but where ingest itself stores session and user plain', () => {
    const needed = MLFLOW_VERSIONS.filter((version) => !ingestKeepsSessionsPlain(capabilitiesFor(version)));
    assert.deepEqual(needed, ['3.6.0', '3.7.0', '3.8.1', '3.11.1', '3.12.1.dev0']);
    assert.equal(ingestKeepsSessionsPlain(undefined), false, 'a server of unknown version is not trusted with it');
  });

  it('registers nothing for a trace without session or user', async () => {
    const server = await startFakeMlflow({ version: '3.8.1' });
    try {
      const experimentId = server.createExperiment('plain');
      assert.equal(await registerSessionsFirst(httpFor(server), experimentId)([outgoing({})]), undefined);
      assert.equal(registrations(server), 0);
    } finally {
      await server.close();
    }
  });

  it('a trace whose spans reached MLflow on an earlier try, quoted: registered again with plain values and every key MLflow has', async () => {
    const server = await startFakeMlflow({ version: '3.11.1' });
    try {
      const experimentId = server.createExperiment('retry');
      const http = httpFor(server);
      const trace = outgoing({ session: 's1' });
      // The spans went first, as an earlier try whose answer was lost: ingest stored the session quoted.
      const plainOtlp = otlpSender({
        description: 'x',
        http,
        path: '/v1/traces',
        headers: { 'x-mlflow-experiment-id': experimentId },
        encoding: 'protobuf',
        gzip: false,
      });
      assert.equal((await plainOtlp.send([trace])).kind, 'delivered');
      assert.equal(server.store.getTrace(trace.traceId)?.info.trace_metadata?.['mlflow.trace.session'], '"s1"');

      assert.equal(await registerSessionsFirst(http, experimentId)([{ ...trace, attempts: 1 }]), undefined);
      const info = server.store.getTrace(trace.traceId)!.info;
      assert.equal(info.trace_metadata?.['mlflow.trace.session'], 's1');
      assert.ok(info.trace_metadata?.['mlflow.trace.tokenUsage'], 'the token usage ingest wrote is kept (dropping a key answers 500)');
      assert.equal(server.store.getTrace(trace.traceId)!.spans.length, 3);

      // Tried again once more: the values are right now, nothing is sent.
      const before = registrations(server);
      assert.equal(await registerSessionsFirst(http, experimentId)([{ ...trace, attempts: 2 }]), undefined);
      assert.equal(registrations(server), before);
    } finally {
      await server.close();
    }
  });

  it('a registration MLflow cannot take now makes the request wait: nothing goes over OTLP', async () => {
    const server = await startFakeMlflow({ version: '3.8.1' });
    try {
      const http = httpFor(server);
      const sender = otlpSender({
        description: 'x',
        http,
        path: '/v1/traces',
        headers: { 'x-mlflow-experiment-id': '999999' },
        encoding: 'protobuf',
        gzip: false,
        beforeSend: registerSessionsFirst(http, '999999'),
      });
      const outcome = await sender.send([outgoing({ session: 's1' })]);
      assert.equal(outcome.kind, 'retry');
      assert.match(outcome.kind === 'retry' ? outcome.answer : '', /registering the trace failed: HTTP 404 RESOURCE_DOES_NOT_EXIST/);
      assert.equal(server.requests.filter((r) => r.path === '/v1/traces').length, 0);
    } finally {
      await server.close();
    }
  });
});
