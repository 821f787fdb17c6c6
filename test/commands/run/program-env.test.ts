import assert from 'node:assert/strict';
import { delimiter } from 'node:path';
import { describe, it } from 'node:test';
import { programEnv } from '../../../src/commands/run/program-env.ts';
import { loadConfig } from '../../../src/config/load-config.ts';

const RECEIVER = 'http://127.0.0.1:40000';

async function envFor(env: Record<string, string>, command = ['node', 'server.js']) {
  const config = await loadConfig({ cwd: '/nonexistent', homeDir: '/nonexistent', flags: {}, purpose: 'app', env });
  return programEnv(env, config, RECEIVER, ['/state/spool/run', '/tmp/spool/run'], { command, cwd: '/nonexistent' });
}

describe('the environment `run` gives the program', () => {
  it('points any OpenTelemetry SDK at the tool’s receiver, in the protocol the program chose, or HTTP', async () => {
    const env = await envFor({ PATH: '/usr/bin' });
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, RECEIVER);
    assert.equal(env.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/protobuf', 'the protocol every SDK has an exporter for');
    assert.equal(env.PATH, '/usr/bin');
    assert.equal(env.OTEL_MLFLOW_SPOOL_DIRS, ['/state/spool/run', '/tmp/spool/run'].join(delimiter), 'where spans wait, in order');
    const chosen = await envFor({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' });
    assert.equal(chosen.OTEL_EXPORTER_OTLP_PROTOCOL, 'grpc');
    assert.equal(chosen.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, 'http/json');
    const grpc = await envFor({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    assert.equal(grpc.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, undefined, 'the receiver takes gRPC too');
  });

  it('keeps the program’s metrics and logs going to the collector it named, with its headers', async () => {
    const collector = { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example:4318/', OTEL_EXPORTER_OTLP_HEADERS: 'x-key=k1' };
    const env = await envFor({ ...collector, OTEL_MLFLOW_OTLP_ENCODING: 'protobuf' });
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, RECEIVER, 'the traces come to the tool');
    assert.equal(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, 'https://collector.example:4318/v1/metrics');
    assert.equal(env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, 'https://collector.example:4318/v1/logs');
    assert.equal(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS, 'x-key=k1');
    assert.equal(env.OTEL_EXPORTER_OTLP_LOGS_HEADERS, 'x-key=k1');
    assert.equal(env.OTEL_EXPORTER_OTLP_HEADERS, undefined, 'the collector’s credentials never reach the tool’s receiver');
    const unnamed = await envFor(collector);
    assert.equal(unnamed.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, 'http/protobuf');
    assert.equal(unnamed.OTEL_EXPORTER_OTLP_PROTOCOL, undefined, 'metrics and logs keep the protocol the collector took');

    const grpc = await envFor({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_MLFLOW_OTLP_ENCODING: 'protobuf',
    });
    assert.equal(grpc.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, 'http://collector:4317', 'gRPC’s per-signal endpoint has no path');
    const own = await envFor({
      ...collector,
      OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc',
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:9090/otlp',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-key=k2',
    });
    assert.equal(own.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, 'http://metrics:9090/otlp', 'the program’s own per-signal settings stay');
    assert.equal(own.OTEL_EXPORTER_OTLP_METRICS_HEADERS, 'x-key=k2');
    assert.equal(own.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, 'https://collector.example:4318/');

    const metricsOnly = await envFor({
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://metrics:4318/v1/metrics',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-key=k1',
    });
    assert.equal(metricsOnly.OTEL_EXPORTER_OTLP_METRICS_HEADERS, 'x-key=k1', 'the base headers went with the metrics');
    assert.equal(metricsOnly.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, undefined, 'in the protocol they went in');
    assert.equal(metricsOnly.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, 'http://localhost:4318/v1/logs', 'no endpoint named: the default');
    assert.equal(metricsOnly.OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, 'http/protobuf', 'the default endpoint is OTLP/HTTP’s');
    assert.equal(metricsOnly.OTEL_EXPORTER_OTLP_LOGS_HEADERS, 'x-key=k1');
    assert.equal(metricsOnly.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, 'http/protobuf');
    assert.equal(metricsOnly.OTEL_EXPORTER_OTLP_PROTOCOL, undefined);
  });

  it('sends the program’s metrics and logs where its SDK sends them by default when no endpoint is named, not to the receiver', async () => {
    const env = await envFor({ PATH: '/usr/bin' });
    assert.equal(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, 'http://localhost:4318/v1/metrics');
    assert.equal(env.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, 'http://localhost:4318/v1/logs');
    assert.equal(env.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/protobuf', 'every signal in the protocol of that port');
    assert.equal(env.OTEL_EXPORTER_OTLP_METRICS_HEADERS, undefined, 'no headers were set');
    const grpc = await envFor({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_HEADERS: 'x-key=k1' });
    assert.equal(grpc.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, 'http://localhost:4317', 'gRPC’s default port, no path');
    assert.equal(grpc.OTEL_EXPORTER_OTLP_LOGS_HEADERS, 'x-key=k1', 'with the headers meant for it');
    assert.equal(grpc.OTEL_EXPORTER_OTLP_HEADERS, undefined, 'and not to the receiver');
    const logsOverGrpc = await envFor({ OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc' });
    assert.equal(logsOverGrpc.OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, 'http://localhost:4317');
    assert.equal(logsOverGrpc.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL, 'http/protobuf');
    assert.equal(logsOverGrpc.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, 'http/protobuf');
    assert.equal(logsOverGrpc.OTEL_EXPORTER_OTLP_PROTOCOL, undefined, 'the logs keep the protocol named for them');
  });

  it('names the service after the program, unless the user named it', async () => {
    assert.equal((await envFor({})).OTEL_SERVICE_NAME, 'server');
    assert.equal((await envFor({ OTEL_SERVICE_NAME: 'checkout' })).OTEL_SERVICE_NAME, 'checkout');
  });

  it('adds the preload to the NODE_OPTIONS the user set, keeping theirs, with what drops copies of a signal before all and the claim of the API slot before the preload', async () => {
    const env = await envFor({ NODE_OPTIONS: '--max-old-space-size=4096' });
    assert.match(
      env.NODE_OPTIONS ?? '',
      /^--require="\/\S+\/preload\/stop-signal-copies\.cjs" --max-old-space-size=4096 --require="\/\S+\/preload\/claim-api-global\.cjs" --import=file:\/\/\S+\/preload\/preload\.js$/,
    );
  });

  it('keeps a collector’s address and headers from the program: its spans go to the tool', async () => {
    const env = await envFor({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/v1/traces',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer secret',
    });
    assert.equal(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, undefined);
    assert.equal(env.OTEL_EXPORTER_OTLP_HEADERS, undefined);
    assert.equal(env.OTEL_MLFLOW_CONTENT_ATTRIBUTES, 'gen_ai');
  });

  it('passes content capture and sampling on as configured', async () => {
    const env = await envFor({
      OTEL_MLFLOW_CAPTURE_CONTENT: 'false',
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    });
    assert.equal(env.OTEL_MLFLOW_CAPTURE_CONTENT, 'false');
    assert.equal(env.OTEL_TRACES_SAMPLER, 'traceidratio');
    assert.equal(env.OTEL_TRACES_SAMPLER_ARG, '0.25');
  });
});
