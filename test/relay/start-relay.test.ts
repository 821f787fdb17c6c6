import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { loadConfig } from '../../src/config/load-config.ts';
import { startRelay, type RelayOptions, type RunningRelay } from '../../src/relay/start-relay.ts';
import { startRelayProcess } from '../cli/serve-process.ts';
import { MLFLOW_VERSIONS, startFakeMlflow, type FakeMlflow, type MlflowVersion } from '../fakes/fake-mlflow.ts';
import { startFaultyProxy } from '../fakes/faulty-proxy.ts';
import { otlpProtobuf, readableSpan } from '../fakes/readable-spans.ts';
import { until } from '../fakes/until.ts';
import { exportCall, pb, rawRequest } from '../otlp/receivers-fixture.ts';
import { runApp } from './stock-app.ts';

const run = promisify(execFile);
const EXPERIMENT = 'relayed';
/** Short, so tests see whole traces quickly; the default is seconds. */
const HOLD = { quietMs: 150, maxWaitMs: 20_000 };

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-relay-'));
});
after(() => rm(root, { recursive: true, force: true }));
let dirs = 0;

async function relayTo(trackingUri: string, env: Record<string, string> = {}, options: Partial<RelayOptions> = {}): Promise<RunningRelay> {
  const config = await loadConfig({
    cwd: root,
    homeDir: root,
    flags: {},
    purpose: 'app',
    env: {
      MLFLOW_TRACKING_URI: trackingUri,
      MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
      OTEL_MLFLOW_STORE_DIR: join(root, `store-${++dirs}`),
      ...env,
    },
  });
  return startRelay({ config, host: '127.0.0.1', port: 0, grpcPort: 0, hold: HOLD, resolveWaitMs: 2_000, ...options });
}

/** Each trace in MLflow, whole (its three spans, the root's state), once. */
async function landedWhole(server: FakeMlflow, traceIds: readonly string[], experiment = EXPERIMENT): Promise<void> {
  const ids = traceIds.map((hex) => `tr-${hex}`);
  await until(
    () => ids.every((id) => server.store.getTrace(id)?.spans.length === 3 && server.store.getTrace(id)?.info.state === 'OK'),
    'every trace is whole in MLflow',
  );
  const experimentId = server.store.experimentByName(experiment)!.experimentId;
  assert.deepEqual(
    server.store
      .traces(experimentId)
      .map((trace) => trace.info.trace_id)
      .sort(),
    [...ids].sort(),
    'these traces, each once',
  );
}

function attribute(server: FakeMlflow, traceId: string, spanName: string, key: string): unknown {
  return server.store.getTrace(`tr-${traceId}`)!.spans.find((span) => span.name === spanName)?.attributes[key];
}

describe('relay: stock OpenTelemetry apps into MLflow', () => {
  for (const version of MLFLOW_VERSIONS) {
    it(`MLflow ${version}: GenAI-convention-only traces split over many requests land whole, with span types, previews and token usage`, async () => {
      const server = await startFakeMlflow({ version: version as MlflowVersion });
      const relay = await relayTo(server.url);
      try {
        // gzip from the app: the relay takes it on every version, and sends 3.6 what 3.6 takes.
        const app = await runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: relay.httpUrl, OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' });
        assert.deepEqual(app.exports, { succeeded: app.exports.succeeded, failed: 0, errors: [] });
        assert.ok(app.exports.succeeded >= 5, `each trace was split over several requests (${app.exports.succeeded})`);
        await landedWhole(server, app.traceIds);
        for (const [i, hex] of app.traceIds.entries()) {
          const trace = server.store.getTrace(`tr-${hex}`)!;
          assert.equal(attribute(server, hex, 'invoke_agent helper', 'mlflow.spanType'), 'AGENT');
          assert.equal(attribute(server, hex, 'chat gpt-4o-mini', 'mlflow.spanType'), 'CHAT_MODEL');
          assert.equal(attribute(server, hex, 'execute_tool lookup', 'mlflow.spanType'), 'TOOL');
          assert.equal(trace.info.request_preview, `What is span number ${i}?`);
          assert.equal(trace.info.response_preview, `Span number ${i} is a unit of work.`);
          const usage = JSON.parse(trace.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? '{}') as Record<string, number>;
          assert.deepEqual(usage, { input_tokens: 20 + i, output_tokens: 7, total_tokens: 27 + i }, 'counted once, from the chat span');
        }
      } finally {
        await relay.close(5_000);
        await server.close();
      }
    });
  }

  for (const [protocol, port] of [
    ['http/json', 'HTTP'],
    ['grpc', 'gRPC'],
    ['grpc', 'HTTP'],
  ] as const) {
    it(`takes the stock ${protocol} exporter on the ${port} port too, although MLflow itself takes neither before 3.12`, async () => {
      const server = await startFakeMlflow({ version: '3.8.1' });
      const relay = await relayTo(server.url);
      try {
        const endpoint = port === 'gRPC' ? `http://${relay.grpcAddress}` : relay.httpUrl;
        const app = await runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol });
        assert.equal(app.exports.failed, 0, app.exports.errors.join('\n'));
        await landedWhole(server, app.traceIds);
      } finally {
        await relay.close(5_000);
        await server.close();
      }
    });
  }

  it('the app keeps exporting successfully while MLflow is down; afterwards every trace is in MLflow exactly once', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    const proxy = await startFaultyProxy(server.url);
    const relay = await relayTo(proxy.url);
    try {
      await proxy.down();
      const app = await runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: relay.httpUrl, APP_TRACES: '8', APP_PAUSE_MS: '20' });
      assert.equal(app.exports.failed, 0, app.exports.errors.join('\n'));
      await until(() => relay.health().last_error !== null, 'the relay has tried MLflow');
      const health = relay.health();
      assert.equal(health.traces.pending, 8, JSON.stringify(health));
      assert.match(health.last_error!.answer, /127\.0\.0\.1/);
      await proxy.up();
      await landedWhole(server, app.traceIds);
    } finally {
      await relay.close(5_000);
      await proxy.close();
      await server.close();
    }
  });

  it('routes by the x-mlflow-experiment-id header, then by service.name, else to the configured experiment', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    const named = server.createExperiment('by-header');
    const relay = await relayTo(server.url, { OTEL_MLFLOW_RELAY_EXPERIMENTS: 'checkout=checkout-traces' });
    try {
      const byHeader = await runApp({
        OTEL_EXPORTER_OTLP_ENDPOINT: relay.httpUrl,
        OTEL_EXPORTER_OTLP_HEADERS: `x-mlflow-experiment-id=${named}`,
      });
      const byService = await runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: relay.httpUrl, OTEL_SERVICE_NAME: 'checkout' });
      const byDefault = await runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: relay.httpUrl, OTEL_SERVICE_NAME: 'search' });
      await landedWhole(server, byHeader.traceIds, 'by-header');
      await landedWhole(server, byService.traceIds, 'checkout-traces');
      await landedWhole(server, byDefault.traceIds, EXPERIMENT);
    } finally {
      await relay.close(5_000);
      await server.close();
    }
  });

  it('an experiment id MLflow does not know is refused to the app (400), with the reason on the health page', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    const relay = await relayTo(server.url);
    try {
      const app = await runApp({
        OTEL_EXPORTER_OTLP_ENDPOINT: relay.httpUrl,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-mlflow-experiment-id=999999',
        APP_TRACES: '1',
      });
      assert.ok(app.exports.failed > 0);
      assert.equal(app.exports.succeeded, 0);
      assert.match(relay.health().last_rejection?.message ?? '', /experiment id 999999 .*does not exist/);
    } finally {
      await relay.close(5_000);
      await server.close();
    }
  });
});

describe('relay: hostile clients', () => {
  it('keeps answering a stock exporter while hundreds of connections dribble their headers, and cuts every dribbler', async () => {
    const CAP = 20;
    const WAVES = 12;
    const PER_WAVE = 25;
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    // A small cap and a short header timeout stand in for the defaults (1,000 connections, 10 s).
    const relay = await relayTo(server.url, {}, { httpLimits: { maxConnections: CAP, headersTimeoutMs: 1_000, checkIntervalMs: 100 } });
    const port = Number(new URL(relay.httpUrl).port);
    const exporter = new ProtobufExporter({ url: `${relay.httpUrl}/v1/traces` });
    const dribblers: Socket[] = [];
    const dribble = setInterval(() => {
      for (const socket of dribblers) if (!socket.destroyed) socket.write('c');
    }, 200);
    try {
      const traceIds: string[] = [];
      for (let wave = 0; wave < WAVES; wave += 1) {
        const connected = Array.from({ length: PER_WAVE }, () => {
          const socket = connect(port, '127.0.0.1');
          socket.on('error', () => {});
          socket.write('POST /v1/tra');
          dribblers.push(socket);
          return once(socket, 'connect');
        });
        await Promise.all(connected);
        const traceId = randomBytes(16).toString('hex');
        const span = readableSpan({
          traceId,
          spanId: randomBytes(8).toString('hex'),
          name: `request ${wave}`,
          resource: { 'service.name': 'busy-app' },
        });
        const result = await new Promise<ExportResult>((resolve) => exporter.export([span], resolve));
        assert.equal(result.code, ExportResultCode.SUCCESS, `export ${wave}: ${result.error?.message}`);
        traceIds.push(traceId);
      }
      await until(() => dribblers.every((socket) => socket.destroyed), 'the relay has closed every dribbling connection');
      const connections = relay.health().http_connections;
      assert.ok(connections.cut_at_cap > 0, JSON.stringify(connections));
      assert.ok(
        connections.cut_at_cap + connections.timed_out >= WAVES * PER_WAVE,
        `each dribbler cut at the cap or timed out: ${JSON.stringify(connections)}`,
      );
      assert.ok(connections.open <= CAP, JSON.stringify(connections));
      await until(
        () => traceIds.every((hex) => server.store.getTrace(`tr-${hex}`)?.spans.length === 1),
        'every exported trace is in MLflow',
      );
    } finally {
      clearInterval(dribble);
      for (const socket of dribblers) socket.destroy();
      await exporter.shutdown();
      await relay.close(5_000);
      await server.close();
    }
  });

  for (const transport of ['OTLP/HTTP', 'OTLP/gRPC'] as const) {
    it(`${transport}: a batch with one string that is not valid UTF-8 is kept whole, the value repaired, the app warned in partial success`, async () => {
      const server = await startFakeMlflow({ version: '3.14.1.dev0' });
      const relay = await relayTo(server.url);
      try {
        const hex = randomBytes(16).toString('hex');
        const [root, chat, tool] = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
        const spans = [
          readableSpan({
            traceId: hex,
            spanId: root,
            name: 'invoke_agent helper',
            attributes: { 'gen_ai.operation.name': 'invoke_agent' },
          }),
          // A prompt cut in the middle of an emoji: the first two of its four bytes.
          readableSpan({
            traceId: hex,
            spanId: chat,
            parentSpanId: root,
            name: 'chat',
            attributes: { 'gen_ai.prompt': 'smile ~~', 'gen_ai.request.model': 'gpt-4o' },
          }),
          readableSpan({
            traceId: hex,
            spanId: tool,
            parentSpanId: root,
            name: 'execute_tool lookup',
            attributes: { 'gen_ai.tool.name': 'lookup' },
          }),
        ];
        const body = pb.replaced(otlpProtobuf(spans), '~~', [0xf0, 0x9f], 'smile ~~');
        let response: Buffer;
        if (transport === 'OTLP/HTTP') {
          const answer = await rawRequest(`${relay.httpUrl}/v1/traces`, { headers: { 'content-type': 'application/x-protobuf' }, body });
          assert.equal(answer.status, 200, answer.body.toString());
          response = answer.body;
        } else {
          const answer = await exportCall(Number(relay.grpcAddress!.split(':').at(-1)), body);
          assert.equal(answer.error, undefined);
          response = answer.response!;
        }
        const { partialSuccess } = ProtobufTraceSerializer.deserializeResponse(response);
        assert.equal(Number(partialSuccess?.rejectedSpans ?? 0), 0, 'no span rejected');
        assert.equal(
          partialSuccess?.errorMessage,
          "1 string value was not valid UTF-8 and was repaired with U+FFFD (span 'chat', attribute 'gen_ai.prompt')",
        );
        await landedWhole(server, [hex]);
        assert.equal(attribute(server, hex, 'chat', 'gen_ai.prompt'), 'smile \uFFFD');
        assert.equal(relay.health().received.repaired_strings, 1);
      } finally {
        await relay.close(5_000);
        await server.close();
      }
    });
  }
});

describe('otel-mlflow relay (the command)', () => {
  it('listens, shows its health at GET /, and at SIGTERM delivers what it received and says so', async () => {
    const server = await startFakeMlflow({ version: '3.11.1' });
    const storeDir = join(root, `store-${++dirs}`);
    const relay = await startRelayProcess(['--grpc-port', '0'], {
      MLFLOW_TRACKING_URI: server.url,
      MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
      OTEL_MLFLOW_STORE_DIR: storeDir,
    });
    try {
      const health = (await (await fetch(`${relay.url}/`)).json()) as { status: string; destinations: { description?: string }[] };
      assert.equal(health.status, 'ok');
      assert.match(
        health.destinations[0]?.description ?? '',
        new RegExp(`^MLflow at http://127\\.0\\.0\\.1:\\d+, experiment '${EXPERIMENT}' \\(id \\d+\\), over OTLP$`),
      );
      const app = await runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: relay.url });
      assert.equal(app.exports.failed, 0);
    } finally {
      const stopped = await relay.stop();
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
      assert.match(stopped.stdout, /^relay: received 9 spans in \d+ requests$/m);
      assert.match(stopped.stdout, /^traces: 3 delivered$/m);
      await server.close();
    }
  });

  it('merges traces that arrive in parts with require() of ES modules switched off in NODE_OPTIONS, as `run` passes a program’s on', async () => {
    const storeDir = join(root, `store-${++dirs}`);
    const relay = await startRelayProcess([], { OTEL_MLFLOW_STORE_DIR: storeDir, NODE_OPTIONS: '--no-experimental-require-module' });
    try {
      const app = await runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: relay.url });
      assert.equal(app.exports.failed, 0, app.exports.errors.join('; '));
    } finally {
      const stopped = await relay.stop();
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
      assert.match(stopped.stdout, /^traces: 3 kept in the local store \S+$/m, 'each trace once, whole: its parts merged');
    }
  });

  it('names each experiment a client routes to by id alone, with its name, once it resolves', async () => {
    const server = await startFakeMlflow({ version: '3.14.1.dev0' });
    const named = server.createExperiment('by-header');
    const relay = await startRelayProcess(['--grpc-port', 'off'], {
      MLFLOW_TRACKING_URI: server.url,
      MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
      OTEL_MLFLOW_STORE_DIR: join(root, `store-${++dirs}`),
      OTEL_MLFLOW_RELAY_EXPERIMENTS: 'checkout=checkout-traces',
    });
    try {
      await runApp({
        OTEL_EXPORTER_OTLP_ENDPOINT: relay.url,
        OTEL_EXPORTER_OTLP_HEADERS: `x-mlflow-experiment-id=${named}`,
        APP_TRACES: '1',
      });
      await runApp({ OTEL_EXPORTER_OTLP_ENDPOINT: relay.url, OTEL_SERVICE_NAME: 'checkout', APP_TRACES: '1' });
      await relay.waitFor(/experiment 'checkout-traces'/);
    } finally {
      const stopped = await relay.stop();
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
      assert.match(
        stopped.stdout,
        new RegExp(`^traces go to MLflow at http://127\\.0\\.0\\.1:\\d+, experiment 'by-header' \\(id ${named}\\), over OTLP$`, 'm'),
      );
      assert.match(
        stopped.stdout,
        /^traces go to MLflow at http:\/\/127\.0\.0\.1:\d+, experiment 'checkout-traces' \(id \d+\), over OTLP \(experiment created now\)$/m,
      );
      assert.equal(stopped.stdout.match(/experiment 'by-header'/g)?.length, 1, 'once');
      await server.close();
    }
  });

  it('counts the batches `run`’s program says it could keep nowhere, by sender, as each last said', async () => {
    const server = await startFakeMlflow({ version: '3.11.1' });
    const relay = await relayTo(server.url);
    let closed: Awaited<ReturnType<RunningRelay['close']>>;
    try {
      const post = (lost: string) =>
        rawRequest(`${relay.httpUrl}/v1/traces`, {
          headers: { 'content-type': 'application/x-protobuf', 'x-otel-mlflow-lost-batches': lost },
          body: otlpProtobuf([
            readableSpan({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), name: 'chat' }),
          ]),
        });
      for (const lost of ['4242.0 1', '4242.0 3', '4242.1 2', '4242.0 2', 'made up']) assert.equal((await post(lost)).status, 200);
    } finally {
      closed = await relay.close(5_000);
      await server.close();
    }
    assert.deepEqual(
      [...closed.counters.lostBatches],
      [
        ['4242.0', 3],
        ['4242.1', 2],
      ],
    );
  });

  it('says at the end how many traces its full store turned away, each once however often sent, and which never came back', async () => {
    const server = await startFakeMlflow({ version: '3.11.1' });
    const proxy = await startFaultyProxy(server.url);
    const relay = await startRelayProcess([], {
      MLFLOW_TRACKING_URI: proxy.url,
      MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
      OTEL_MLFLOW_STORE_DIR: join(root, `store-${++dirs}`),
      OTEL_MLFLOW_STORE_MAX_MB: '1',
    });
    const send = (traceId: string) =>
      rawRequest(`${relay.url}/v1/traces`, {
        headers: { 'content-type': 'application/x-protobuf' },
        body: otlpProtobuf([
          readableSpan({ traceId, spanId: randomBytes(8).toString('hex'), name: 'chat', attributes: { prompt: 'x'.repeat(40_000) } }),
        ]),
      });
    let stopped: Awaited<ReturnType<typeof relay.stop>>;
    try {
      // MLflow goes away: the traces wait in the store, which is full of them before long.
      await proxy.down();
      const turnedAway: string[] = [];
      while (turnedAway.length < 3) {
        const traceId = randomBytes(16).toString('hex');
        const answer = await send(traceId);
        if (answer.status === 503) turnedAway.push(traceId);
        else assert.equal(answer.status, 200);
      }
      // The third is never sent again.
      const [again, back] = turnedAway as [string, string, string];
      assert.equal((await send(again)).status, 503, 'still full: sent again, and turned away again');
      // MLflow is back: what it takes leaves the store, and a sender trying again gets in.
      await proxy.up();
      // Sent again until it is taken, as an exporter does: the store has room once MLflow took the others.
      while ((await send(back)).status !== 200) await delay(100);
      const health = (await (await fetch(`${relay.url}/`)).json()) as { turned_away: unknown };
      assert.deepEqual(health.turned_away, { traces: 3, not_sent_again: 2 }, 'said while it runs too');
    } finally {
      stopped = await relay.stop();
      await proxy.close();
      await server.close();
    }
    assert.equal(stopped.code, 7, 'a trace was lost on its sender’s side: not a clean end');
    assert.match(
      stopped.stdout,
      /^the store turned 3 traces away \(.*full.*\), asking their senders to send them again: 1 came back and was stored, 2 did not \(lost, unless their senders kept them\)$/m,
    );
    assert.doesNotMatch(stopped.stdout, /not stored/, 'the tries are not counted as traces lost');
  });

  it('refuses to relay to itself when OTEL_EXPORTER_OTLP_ENDPOINT points at its own port', async () => {
    const bin = fileURLToPath(new URL('../../bin/otel-mlflow.js', import.meta.url));
    const failed = await run(process.execPath, [bin, 'relay', '--grpc-port', 'off'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: root, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
    }).then(
      () => assert.fail('the relay started'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(failed.code, 3, 'a configuration problem');
    assert.match(failed.stderr, /would send traces to itself/);
  });
});
