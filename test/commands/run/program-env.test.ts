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
  it('points any OpenTelemetry SDK at the tool’s receiver over OTLP/HTTP protobuf', async () => {
    const env = await envFor({ PATH: '/usr/bin' });
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, RECEIVER);
    assert.equal(env.OTEL_EXPORTER_OTLP_PROTOCOL, 'http/protobuf');
    assert.equal(env.PATH, '/usr/bin');
    assert.equal(env.OTEL_MLFLOW_SPOOL_DIRS, ['/state/spool/run', '/tmp/spool/run'].join(delimiter), 'where spans wait, in order');
  });

  it('names the service after the program, unless the user named it', async () => {
    assert.equal((await envFor({})).OTEL_SERVICE_NAME, 'server');
    assert.equal((await envFor({ OTEL_SERVICE_NAME: 'checkout' })).OTEL_SERVICE_NAME, 'checkout');
  });

  it('adds the preload to the NODE_OPTIONS the user set, keeping theirs', async () => {
    const env = await envFor({ NODE_OPTIONS: '--max-old-space-size=4096' });
    assert.match(env.NODE_OPTIONS ?? '', /^--max-old-space-size=4096 --import=file:\/\/\S+\/preload\/preload\.js$/);
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
