import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const BIN = fileURLToPath(new URL('../../bin/otel-mlflow.js', import.meta.url));
/** Prints every module the process resolves, one per line on stderr, as the CLI starts. */
const RECORD_MODULES = `data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module'; registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); process.stderr.write('loaded ' + r.url + '\\n'); return r; } });",
)}`;

function modulesLoadedBy(args: string[]): string[] {
  const result = spawnSync(process.execPath, ['--import', RECORD_MODULES, BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent' },
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stderr.split('\n').filter((line) => line.startsWith('loaded ')).map((line) => line.slice(7));
}

describe('start-up cost', () => {
  for (const args of [['--help'], ['--version'], ['doctor', '--help']]) {
    it(`\`otel-mlflow ${args.join(' ')}\` loads no OpenTelemetry, openai, hono or config-file machinery`, () => {
      const loaded = modulesLoadedBy(args);
      assert.ok(loaded.some((url) => url.includes('commander')), 'the recorder sees the modules the CLI loads');
      const heavy = loaded.filter((url) => /node_modules\/(@opentelemetry|openai|hono|@hono|cosmiconfig|@inquirer|ora)\//.test(url));
      assert.deepEqual(heavy, []);
    });
  }
});
