import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { closedPortUrl } from './closed-port.ts';

const BIN = fileURLToPath(new URL('../../bin/otel-mlflow.js', import.meta.url));
/** Prints every module the process resolves, one per line on stderr, as the CLI starts. */
const RECORD_MODULES = `data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module'; registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); process.stderr.write('loaded ' + r.url + '\\n'); return r; } });",
)}`;

function modulesLoadedBy(args: string[], expectedStatus = 0): string[] {
  const result = spawnSync(process.execPath, ['--import', RECORD_MODULES, BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', OTEL_MLFLOW_STORE_DIR: '/nonexistent/traces' },
    timeout: 30_000,
  });
  assert.equal(result.status, expectedStatus, result.stderr);
  return result.stderr
    .split('\n')
    .filter((line) => line.startsWith('loaded '))
    .map((line) => line.slice(7));
}

const heavyIn = (loaded: string[], pattern: RegExp) => loaded.filter((url) => pattern.test(url));

describe('start-up cost', () => {
  for (const args of [['--help'], ['--version'], ['doctor', '--help']]) {
    it(`\`otel-mlflow ${args.join(' ')}\` loads no OpenTelemetry, openai, anthropic, hono or config-file machinery`, () => {
      const loaded = modulesLoadedBy(args);
      assert.ok(
        loaded.some((url) => url.includes('commander')),
        'the recorder sees the modules the CLI loads',
      );
      const heavy = loaded.filter((url) =>
        /node_modules\/(@opentelemetry|openai|@anthropic-ai|hono|@hono|cosmiconfig|@inquirer|ora)\//.test(url),
      );
      assert.deepEqual(heavy, []);
    });
  }
});

describe('commands load only what they use', () => {
  const TRACING_OR_LLM = /node_modules\/(@opentelemetry|openai|@anthropic-ai|hono|@hono)\//;
  // The API package is types and no-ops; the SDK, resources and exporters are what cost.
  const SDK_OR_LLM = /node_modules\/(@opentelemetry\/(?!api\/)|openai\/|@anthropic-ai\/|hono\/|@hono\/)/;

  it('`ask --url` is an HTTP client: no OpenTelemetry, openai or hono', async () => {
    const loaded = modulesLoadedBy(['ask', '--url', await closedPortUrl(), 'hi'], 4);
    assert.deepEqual(heavyIn(loaded, TRACING_OR_LLM), []);
  });

  it('`suite` against a running server (no --spawn) loads no OpenTelemetry SDK, openai or hono', async () => {
    const loaded = modulesLoadedBy(['suite', '--url', await closedPortUrl()], 4);
    assert.deepEqual(heavyIn(loaded, SDK_OR_LLM), []);
  });

  it('`traces list` reads files: no OpenTelemetry SDK, openai or hono', () => {
    const loaded = modulesLoadedBy(['traces', 'list']);
    assert.deepEqual(heavyIn(loaded, SDK_OR_LLM), []);
  });

  it('`init` asks no model, so loads no openai', async () => {
    const loaded = modulesLoadedBy(
      ['init', '--yes', '--destination', 'mlflow', '--tracking-uri', await closedPortUrl(), '--llm', 'offline'],
      4,
    );
    assert.deepEqual(heavyIn(loaded, /node_modules\/openai\//), []);
  });
});
