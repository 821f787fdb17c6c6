import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { packageNameIn, programName } from '../../../src/commands/run/program-name.ts';

const named = (...command: string[]) => programName(command, () => 'checkout-api');

describe('the name a program’s traces carry by default', () => {
  it('is the script an interpreter runs, or the program itself', () => {
    assert.equal(named('node', '--enable-source-maps', 'dist/server.mjs'), 'server');
    assert.equal(named('/usr/bin/python3', 'app.py'), 'app');
    assert.equal(named('./bin/api', '--port', '3000'), 'api');
  });

  it('skips the values of an interpreter’s options, which are not the script', () => {
    assert.equal(named('node', '-r', 'dotenv/config', 'server.js'), 'server');
    assert.equal(named('node', '--import', 'tsx', 'src/app.ts'), 'app');
    assert.equal(named('node', '--env-file', '.env', '--watch', 'index.js'), 'index');
    assert.equal(named('java', '-cp', 'lib/deps.jar', '-jar', 'build/orders.jar'), 'orders');
  });

  it('is the module Python runs, dots and all', () => {
    assert.equal(named('python3', '-m', 'uvicorn', 'main:app'), 'uvicorn');
    assert.equal(named('python', '-X', 'dev', '-m', 'http.server'), 'http.server');
  });

  it('is the script past a subcommand that comes before it', () => {
    assert.equal(named('deno', 'run', '--allow-net', 'main.ts'), 'main');
    assert.equal(named('tsx', 'watch', 'src/server.ts'), 'server');
  });

  it('is the interpreter when it runs code given inline', () => {
    assert.equal(named('node', '-e', 'require("./server")'), 'node');
    assert.equal(named('python3', '-c', 'import app'), 'python3');
  });

  it('is the command a runner runs, named the same way', () => {
    assert.equal(named('npx', 'tsx', 'src/app.ts'), 'app');
    assert.equal(named('npx', '--yes', 'tsx', 'watch', 'src/app.ts'), 'app');
    assert.equal(named('uv', 'run', 'python', 'agent.py'), 'agent');
    assert.equal(named('uv', 'run', '--with', 'openai', 'agent.py'), 'agent');
    assert.equal(named('env', 'PORT=3000', 'node', 'server.js'), 'server');
    assert.equal(named('npm', 'exec', '--', 'tsx', 'server.ts'), 'server');
    assert.equal(named('pnpm', 'dlx', 'tsx', 'server.ts'), 'server');
  });

  it('is the package when a package manager runs one of its scripts', () => {
    assert.equal(named('npm', 'start'), 'checkout-api');
    assert.equal(named('npm', 'run', 'dev'), 'checkout-api');
    assert.equal(named('npm', '--silent', 'run', 'dev'), 'checkout-api');
    assert.equal(named('pnpm', 'dev'), 'checkout-api');
    assert.equal(named('yarn', 'start'), 'checkout-api');
    assert.equal(named('bun', 'run', 'dev'), 'checkout-api');
    assert.equal(named('node', '.'), 'checkout-api');
  });

  it('is the file bun runs when it runs a file', () => {
    assert.equal(named('bun', 'run', 'src/index.ts'), 'index');
    assert.equal(named('bun', 'server.ts'), 'server');
  });

  it('is the package manager when there is no package to name', () => {
    assert.equal(
      programName(['npm', 'start'], () => undefined),
      'npm',
    );
  });
});

describe('the name of the package in a directory', () => {
  const root = mkdtempSync(join(tmpdir(), 'otel-mlflow-package-name-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('is the nearest package.json’s, from the directory up, as npm finds it', () => {
    const project = join(root, 'shop');
    mkdirSync(join(project, 'src', 'routes'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: '@acme/checkout', scripts: { start: 'node .' } }));
    assert.equal(packageNameIn(join(project, 'src', 'routes')), '@acme/checkout');
  });

  it('is the directory’s when its package.json has no name or cannot be read', () => {
    const unnamed = join(root, 'agent-service');
    mkdirSync(unnamed);
    writeFileSync(join(unnamed, 'package.json'), JSON.stringify({ private: true }));
    assert.equal(packageNameIn(unnamed), 'agent-service');
    const broken = join(root, 'broken-service');
    mkdirSync(broken);
    writeFileSync(join(broken, 'package.json'), '{ "name": ');
    assert.equal(packageNameIn(broken), 'broken-service');
  });
});
