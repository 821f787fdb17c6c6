import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFakeOpenAI, type FakeOpenAIRequest } from '../fakes/fake-openai.ts';
import { runCli } from './run-cli.ts';
import { startServe } from './serve-process.ts';

/** Every secret the configuration knows, each a marker found nowhere else; only the masked tail (`MARK`) may show. */
const SECRETS = {
  OPENAI_API_KEY: 'QQ5-openai-key-0123456789-MARK',
  MLFLOW_TRACKING_PASSWORD: 'QQ1-mlflow-password-0123456789-MARK',
  MLFLOW_TRACKING_TOKEN: 'QQ2-mlflow-token-0123456789-MARK',
  DATABRICKS_TOKEN: 'QQ3-databricks-token-0123456789-MARK',
  DATABRICKS_CLIENT_SECRET: 'QQ4-databricks-secret-0123456789-MARK',
  OTEL_MLFLOW_AUTH_TOKEN: 'QQ6-serve-token-0123456789-MARK',
};
const HEADER_SECRET = 'QQ7-collector-key-0123456789-MARK';
const MARKERS = [...Object.values(SECRETS), HEADER_SECRET];

function leaks(text: string): string[] {
  return MARKERS.filter((marker) => text.includes(marker.slice(0, -4)));
}

function assertNoLeak(where: string, text: string): void {
  assert.deepEqual(leaks(text), [], `a configured secret leaked into ${where}:\n${text.slice(0, 4000)}`);
}

/** An OpenAI-compatible server that echoes the key it was given in its refusal, as many do. */
function echoingRefusal(request: FakeOpenAIRequest) {
  const key = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
  const question = JSON.stringify(request.body.messages);
  return question.includes('forbidden')
    ? { status: 403, errorMessage: `Key ${key} may not use this model` }
    : {
        status: 401,
        errorMessage: `Incorrect API key provided: ${key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      };
}

async function filesUnder(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name), 'latin1')));
  return texts.join('\n');
}

describe('no configured secret in any span, store row, log line or output', () => {
  let storeDir: string;
  before(async () => {
    storeDir = await mkdtemp(join(tmpdir(), 'otel-mlflow-secrets-'));
  });
  after(() => rm(storeDir, { recursive: true, force: true }));

  it('a provider error that echoes the API key reaches ask, serve, the store and MLflow masked', async () => {
    const mlflow = await startFakeMlflow({
      version: '3.14.1.dev0',
      auth: { username: 'alice', password: SECRETS.MLFLOW_TRACKING_PASSWORD },
      keepBodies: true,
    });
    const openai = await startFakeOpenAI({ script: echoingRefusal });
    const env = {
      ...SECRETS,
      MLFLOW_TRACKING_URI: mlflow.url,
      MLFLOW_TRACKING_USERNAME: 'alice',
      DATABRICKS_CLIENT_ID: 'sp-1',
      OTEL_EXPORTER_OTLP_HEADERS: `x-api-key=${HEADER_SECRET}`,
      OPENAI_BASE_URL: `${openai.url}/v1`,
      OTEL_MLFLOW_STORE_DIR: storeDir,
    };
    try {
      const json = await runCli(['ask', '--json', '--verbose', 'hello'], { env });
      assert.equal(json.code, 4, json.stdout + json.stderr);
      assertNoLeak('ask --json', json.stdout + json.stderr);
      assert.match(json.stderr, /cause: .*Incorrect API key provided: \*\*\*\*MARK/, 'the echo was there, and masked');

      const forbidden = await runCli(['ask', '--verbose', 'forbidden question'], { env });
      assert.equal(forbidden.code, 4, forbidden.stdout + forbidden.stderr);
      assertNoLeak('ask', forbidden.stdout + forbidden.stderr);
      assert.match(forbidden.stderr, /^error: .*answered 403 .*Key \*\*\*\*MARK may not use this model/m);

      const serve = await startServe([], env);
      const bearer = { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.OTEL_MLFLOW_AUTH_TOKEN}` };
      let answers = '';
      try {
        for (const body of [{ query: 'hello' }, { query: 'forbidden question' }, { query: 'hello', stream: true }]) {
          const response = await fetch(`${serve.url}/chat`, { method: 'POST', headers: bearer, body: JSON.stringify(body) });
          answers += `${response.status} ${await response.text()}\n`;
        }
      } finally {
        const stopped = await serve.stop();
        assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
        assertNoLeak('serve output', stopped.stdout + stopped.stderr);
      }
      assertNoLeak('serve answers', answers);
      assert.match(answers, /^502 .*Key \*\*\*\*MARK may not use this model/m);

      assertNoLeak('the trace store', await filesUnder(storeDir));
      const traces = mlflow.store.traces();
      assert.equal(traces.length, 5, 'every request made a trace, delivered to MLflow');
      const received = mlflow.requests.map((r) => `${r.method} ${r.path}\n${r.body?.toString('latin1') ?? ''}`).join('\n');
      assertNoLeak('what MLflow received', received);
      const kept = JSON.stringify(traces, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
      assertNoLeak('what MLflow stored', kept);
      assert.match(kept, /Incorrect API key provided: \*\*\*\*MARK/, 'the exception event is kept, masked');
    } finally {
      await openai.close();
      await mlflow.close();
    }
  });
});
