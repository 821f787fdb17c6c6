import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listen } from '../fakes/listen.ts';
import { runCli } from './run-cli.ts';
import { startRelayProcess } from './serve-process.ts';

/** An OpenTelemetry collector on 127.0.0.1 that takes every export. */
function collectorTakingAll() {
  return listen((req, res) => {
    req.resume();
    req.once('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
}

describe('a configuration that resolves to something not meant', () => {
  it('doctor warns at its first check that DATABRICKS_HOST and DATABRICKS_TOKEN alone leave traces in the local store', async () => {
    const store = await mkdtemp(join(tmpdir(), 'otel-mlflow-doctor-store-'));
    try {
      const result = await runCli(['doctor', '--json'], {
        env: {
          DATABRICKS_HOST: 'https://dbc-1.cloud.databricks.com',
          DATABRICKS_TOKEN: 'dapi0123456789abcdef0123',
          OTEL_MLFLOW_STORE_DIR: store,
        },
      });
      const config = JSON.parse(result.stdout).checks.find((c: { id: string }) => c.id === 'config');
      assert.equal(config.status, 'warn');
      assert.match(
        config.hint,
        /DATABRICKS_HOST \(from env DATABRICKS_HOST\) is set but MLFLOW_TRACKING_URI is not, so traces stay in the local store; set MLFLOW_TRACKING_URI=databricks/,
      );
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });

  it('run says before the program starts that a collector in the environment takes the traces the .env sends to MLflow', async () => {
    const store = await mkdtemp(join(tmpdir(), 'otel-mlflow-run-store-'));
    const collector = await collectorTakingAll();
    try {
      const result = await runCli(['run', '--', process.execPath, '-e', 'console.error("the program")'], {
        env: { OTEL_MLFLOW_STORE_DIR: store, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
        dotenv: 'MLFLOW_TRACKING_URI=http://mlflow.example:5000\n',
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        /^note: env OTEL_EXPORTER_OTLP_ENDPOINT names an OpenTelemetry collector, so traces go there and not to the MLflow of \.env \(.*\) MLFLOW_TRACKING_URI; pass --tracking-uri http:\/\/mlflow\.example:5000 to send them to MLflow instead\nthe program\ntraces: 0 delivered\n$/,
      );
      const chosen = await runCli(['run', '--tracking-uri', collector.url, '--', process.execPath, '-e', ''], {
        env: { OTEL_MLFLOW_STORE_DIR: store, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
      });
      assert.doesNotMatch(chosen.stderr, /note:/, 'the flag chose MLflow: nothing to say');
    } finally {
      await collector.close();
      await rm(store, { recursive: true, force: true });
    }
  });

  it('the relay says it at its start too', async () => {
    const store = await mkdtemp(join(tmpdir(), 'otel-mlflow-relay-store-'));
    const collector = await collectorTakingAll();
    try {
      const relay = await startRelayProcess([], {
        OTEL_MLFLOW_STORE_DIR: store,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        MLFLOW_TRACKING_URI: 'http://mlflow.example:5000',
      });
      const { stdout } = await relay.stop();
      assert.match(
        stdout,
        /^note: env OTEL_EXPORTER_OTLP_ENDPOINT names an OpenTelemetry collector, so traces go there and not to the MLflow of env MLFLOW_TRACKING_URI; pass --tracking-uri http:\/\/mlflow\.example:5000 to send them to MLflow instead$/m,
      );
    } finally {
      await collector.close();
      await rm(store, { recursive: true, force: true });
    }
  });

  it("ask says at start-up that the demo .env's placeholders are placeholders", async () => {
    const store = await mkdtemp(join(tmpdir(), 'otel-mlflow-ask-store-'));
    try {
      const result = await runCli(['ask', '--provider', 'offline', 'What is a span?'], {
        env: { OTEL_MLFLOW_STORE_DIR: store },
        dotenv: 'OPENAI_API_KEY=sk-proj-...\n',
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        /^note: \.env \(.*\) OPENAI_API_KEY is the example \.env's placeholder, not a real value: replace it with your own$/m,
      );
    } finally {
      await rm(store, { recursive: true, force: true });
    }
  });
});
