import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runCli } from './run-cli.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

describe('next-step hints, as the person can paste them', () => {
  it('name `npx otel-mlflow …` when npm ran the tool, as the README does', async () => {
    const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-npx-'));
    try {
      // In the project, as the README runs it.
      const result = spawnSync('npm', ['exec', '--offline', '--', 'otel-mlflow', 'traces', 'list', '--store-dir', join(home, 'store')], {
        cwd: REPO,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: home,
          // No update check: it would reach for the registry.
          npm_config_update_notifier: 'false',
          // npm links the project into its npx cache (building it) on first use: once per machine, not per test.
          npm_config_cache: join(tmpdir(), 'otel-mlflow-test-npm-cache'),
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^ {2}npx otel-mlflow suite --spawn$/m);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('name plain `otel-mlflow …` when it was run from PATH or by its path', async () => {
    const result = await runCli(['traces', 'list', '--store-dir', join(tmpdir(), 'otel-mlflow-no-store-here')]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ {2}otel-mlflow suite --spawn$/m);
  });
});
