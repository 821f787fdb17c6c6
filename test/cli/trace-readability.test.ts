import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closedPortUrl } from './closed-port.ts';
import { runCli } from './run-cli.ts';
import { startServe } from './serve-process.ts';

interface ShownNode {
  name: string;
  status: string;
  children: ShownNode[];
}

function flatten(nodes: ShownNode[]): ShownNode[] {
  return nodes.flatMap((node) => [node, ...flatten(node.children)]);
}

async function shownTree(traceId: string, storeDir: string): Promise<ShownNode[]> {
  const shown = await runCli(['traces', 'show', '--json', traceId], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
  assert.equal(shown.code, 0, shown.stderr);
  return flatten((JSON.parse(shown.stdout) as { tree: ShownNode[] }).tree);
}

describe('what a person sees of a trace', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-readability-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('every span of a served request that finished normally is OK, as the trace is, not UNSET', async () => {
    const storeDir = join(dir, 'serve');
    const serve = await startServe([], { OTEL_MLFLOW_STORE_DIR: storeDir });
    const traceIds: string[] = [];
    try {
      for (const [path, body] of [
        ['/chat', { query: 'What is MLflow tracing?' }],
        ['/rag/v1/answer', { query: 'Explain OTLP' }],
        ['/agent/task', { task: 'What is 6*7?' }],
      ] as const) {
        const response = await fetch(`${serve.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.equal(response.status, 200);
        traceIds.push(((await response.json()) as { trace_id: string }).trace_id);
      }
    } finally {
      await serve.stop();
    }
    for (const traceId of traceIds) {
      const spans = await shownTree(traceId, storeDir);
      assert.ok(spans.length >= 2);
      assert.deepEqual(
        spans.filter((span) => span.status !== 'OK').map((span) => `${span.name}: ${span.status}`),
        [],
      );
    }
  });

  it('ask: every span OK; a failed ask shows `error:` and `raised:` each followed by a space', async () => {
    const storeDir = join(dir, 'ask');
    for (const endpoint of ['chat', 'agent']) {
      const asked = await runCli(['ask', '--json', '--endpoint', endpoint, 'What is a span?'], {
        env: { OTEL_MLFLOW_STORE_DIR: storeDir },
      });
      assert.equal(asked.code, 0, asked.stderr);
      const spans = await shownTree((JSON.parse(asked.stdout) as { traceId: string }).traceId, storeDir);
      assert.deepEqual(
        spans.filter((span) => span.status !== 'OK').map((span) => `${span.name}: ${span.status}`),
        [],
      );
    }

    const failed = await runCli(['ask', '--json', 'What is a span?'], {
      env: { OTEL_MLFLOW_STORE_DIR: storeDir, OPENAI_API_KEY: 'sk-test-readability-0123', OPENAI_BASE_URL: `${await closedPortUrl()}/v1` },
    });
    assert.equal(failed.code, 4, failed.stdout + failed.stderr);
    const traceId = (JSON.parse(failed.stdout) as { traceId: string }).traceId;
    const shown = await runCli(['traces', 'show', traceId], { env: { OTEL_MLFLOW_STORE_DIR: storeDir } });
    assert.match(shown.stdout, /error: +\S/);
    assert.match(shown.stdout, /raised: +\S/);
    assert.doesNotMatch(shown.stdout, /(error|raised):\S/);
  });
});
