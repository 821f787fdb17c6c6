import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { detectInvocation } from '../../src/invocation.ts';
import { runCli } from './run-cli.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** `npm exec` as a person runs it, in `cwd`, listing an empty store at `home`; answers its output. */
function npmExec(spec: string[], cwd: string, home: string) {
  return spawnSync('npm', ['exec', '--offline', '--yes', '--', ...spec, 'traces', 'list', '--store-dir', home], {
    cwd,
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
}

describe('next-step hints, as the person can paste them', () => {
  it('name `npx otel-mlflow …` when npm ran the tool, as the README does', async () => {
    const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-npx-'));
    try {
      // In the project, as the README runs it.
      const result = npmExec(['otel-mlflow'], REPO, home);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^ {2}npx otel-mlflow suite --spawn$/m);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('name the clone by its path when npm ran it by its path from elsewhere: the bare name would send npm to the registry', async () => {
    const home = await mkdtemp(join(tmpdir(), 'otel-mlflow-npx-path-'));
    try {
      const result = npmExec([REPO], home, home);
      assert.equal(result.status, 0, result.stderr);
      assert.match(
        result.stdout,
        new RegExp(`^ {2}npx ${REPO.replace(/\/+$/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} suite --spawn$`, 'm'),
      );
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('tells the ways npm runs it apart by where the package is', () => {
    const exec = (json?: string) => ({ npm_command: 'exec', ...(json !== undefined && { npm_package_json: json }) });
    assert.equal(detectInvocation({}, '/src/otel-mlflow'), 'otel-mlflow', 'from PATH or by its path');
    assert.equal(detectInvocation(exec('/src/otel-mlflow/package.json'), '/src/otel-mlflow'), 'npx otel-mlflow', 'in the clone');
    assert.equal(
      detectInvocation(exec('/work/app/package.json'), '/work/app/node_modules/otel-mlflow'),
      'npx otel-mlflow',
      'installed in the project',
    );
    assert.equal(
      detectInvocation(exec('/tmp/package.json'), '/home/me/.npm/_npx/1a2b/node_modules/otel-mlflow'),
      'npx otel-mlflow',
      'from the registry',
    );
    assert.equal(detectInvocation(exec('/tmp/package.json'), '/src/otel-mlflow'), 'npx /src/otel-mlflow', 'a clone by its path');
    assert.equal(
      detectInvocation(exec('/tmp/package.json'), '/src/my clones/otel-mlflow'),
      "npx '/src/my clones/otel-mlflow'",
      'quoted for the shell',
    );
  });

  it('name plain `otel-mlflow …` when it was run from PATH or by its path', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'otel-mlflow-empty-store-'));
    try {
      const result = await runCli(['traces', 'list', '--store-dir', empty]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^ {2}otel-mlflow suite --spawn$/m);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
