import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { VERSION } from '../../src/version.ts';
import { oldNode } from '../cli/old-node.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Bounds a failure only: the install fetches the Node that comes with the package from the registry. */
const INSTALL_TIMEOUT_MS = 10 * 60_000;
const COMMAND_TIMEOUT_MS = 60_000;
const OLD_NODE = oldNode();
/** npm's own script, so it can be run by whichever Node the test chooses (under `npm test` npm says where it is). */
const NPM_CLI = process.env.npm_execpath ?? realpathSync(spawnSync('which', ['npm'], { encoding: 'utf8' }).stdout.trim());
/** How this machine reaches the registry, as any install here would: its proxy and the CAs it trusts. */
const NETWORK_VARIABLES = [
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

function run(argv: string[], options: { cwd: string; env: Record<string, string>; timeout?: number }): SpawnSyncReturns<string> {
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS, ...options });
  if (result.error) throw result.error;
  return result;
}

describe('the packed package, installed globally as npm users get it', () => {
  it(`installs with no warning under ${OLD_NODE.description}, and runs --version, --help and ask from another directory with an empty HOME, under that Node and under ${process.version}`, {
    timeout: INSTALL_TIMEOUT_MS + 5 * COMMAND_TIMEOUT_MS,
  }, async () => {
    const work = await mkdtemp(join(tmpdir(), 'otel-mlflow-packed-'));
    try {
      const [prefix, home, elsewhere] = [join(work, 'prefix'), join(work, 'home'), join(work, 'elsewhere')];
      await Promise.all([mkdir(home), mkdir(elsewhere)]);
      // The tarball of this clone as it is (npm test built dist/ just now), not the clone itself.
      const pack = run([process.execPath, NPM_CLI, 'pack', '--ignore-scripts', '--loglevel=error', '--pack-destination', work], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: home },
      });
      assert.equal(pack.status, 0, pack.stderr);
      const tarball = join(work, pack.stdout.trim().split('\n').at(-1)!);

      const npmEnv = {
        ...Object.fromEntries(NETWORK_VARIABLES.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : []))),
        PATH: process.env.PATH ?? '',
        HOME: home,
        // Downloads are shared with the machine's cache; npm's notice of its own new version is not ours.
        npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm'),
        npm_config_update_notifier: 'false',
      };
      // The machine's global npm settings (registry, CA file), which npm would look for under --prefix.
      const globalConfig = run([...OLD_NODE.argv, NPM_CLI, 'config', 'get', 'globalconfig'], { cwd: elsewhere, env: npmEnv }).stdout.trim();
      const install = run([...OLD_NODE.argv, NPM_CLI, 'install', '--global', '--prefix', prefix, '--globalconfig', globalConfig, tarball], {
        cwd: elsewhere,
        timeout: INSTALL_TIMEOUT_MS,
        env: npmEnv,
      });
      assert.equal(install.status, 0, install.stdout + install.stderr);
      assert.equal(install.stderr, '', 'npm printed warnings or notices while installing');

      const bin = join(prefix, 'bin', 'otel-mlflow');
      for (const node of [OLD_NODE.argv, [process.execPath]]) {
        const otelMlflow = (args: string[]) => run([...node, bin, ...args], { cwd: elsewhere, env: { PATH: '/usr/bin:/bin', HOME: home } });
        const version = otelMlflow(['--version']);
        assert.equal(version.stdout, `${VERSION}\n`, version.stderr);
        assert.equal(version.status, 0);

        const help = otelMlflow(['--help']);
        assert.match(help.stdout, /^Usage: otel-mlflow /);
        assert.equal(help.status, 0, help.stderr);

        // The built-in offline model answers: nothing to configure, no network.
        const ask = otelMlflow(['ask', 'hi']);
        assert.equal(ask.status, 0, ask.stdout + ask.stderr);
        assert.match(ask.stdout, /offline model/);
        assert.match(ask.stderr, /Trace tr-[0-9a-f]{32} is in the local store/);
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
