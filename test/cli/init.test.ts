import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startFakeDatabricks, type FakeDatabricks } from '../fakes/fake-databricks.ts';
import { startFakeMlflow, type FakeMlflow } from '../fakes/fake-mlflow.ts';
import { startFakeAnthropic } from '../fakes/fake-anthropic.ts';
import { startFakeOpenAI } from '../fakes/fake-openai.ts';
import { availableDrivers, startTerminal, type Terminal, type TerminalDriver } from '../commands/init/terminal-driver.ts';
import { runCli } from './run-cli.ts';
import { closedPortUrl } from './closed-port.ts';

const BIN = fileURLToPath(new URL('../../bin/otel-mlflow.js', import.meta.url));
const PAT = 'dapi-init-e2e-token-0123456789';
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
const hasGit = spawnSync('git', ['--version'], { stdio: 'ignore' }).status === 0;

describe('otel-mlflow init in a script', () => {
  let mlflow: FakeMlflow;
  let workspace: FakeDatabricks;
  const dirs: string[] = [];
  const freshDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otel-mlflow-init-'));
    dirs.push(dir);
    return dir;
  };
  before(async () => {
    mlflow = await startFakeMlflow();
    workspace = await startFakeDatabricks({ pat: PAT });
  });
  after(async () => {
    await mlflow.close();
    await workspace.close();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('sets up a local MLflow server with --yes, and then doctor passes in the same directory', async () => {
    const cwd = await freshDir();
    const init = await runCli(
      [
        'init',
        '--yes',
        '--destination',
        'mlflow',
        '--tracking-uri',
        mlflow.url,
        '--experiment',
        'init-e2e',
        '--create-experiment',
        '--llm',
        'offline',
      ],
      { cwd },
    );
    assert.equal(init.code, 0, init.stderr + init.stdout);
    assert.match(init.stdout, /✔ MLflow 3\.8\.1 at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(init.stdout, /✔ Created experiment 'init-e2e'/);
    assert.match(
      init.stdout,
      new RegExp(
        `^✔ Wrote \\.otel-mlflowrc\\.json:\\n {4}trackingUri: ${mlflow.url}\\n {4}experimentName: init-e2e\\n {4}llmProvider: offline$`,
        'm',
      ),
    );
    assert.match(init.stdout, /Next: run otel-mlflow doctor/);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC [ starts every colour and cursor code, which must be absent here
    assert.doesNotMatch(init.stdout, /\x1b\[/, 'no colour or spinner without a terminal');
    assert.deepEqual(JSON.parse(await readFile(join(cwd, '.otel-mlflowrc.json'), 'utf8')), {
      trackingUri: mlflow.url,
      experimentName: 'init-e2e',
      llmProvider: 'offline',
    });
    assert.equal(await exists(join(cwd, '.env')), false, 'no secrets, no .env');

    const doctor = await runCli(['doctor', '--json'], { cwd });
    assert.equal(doctor.code, 0, doctor.stderr + doctor.stdout);
    const report = JSON.parse(doctor.stdout);
    assert.equal(report.experiment.name, 'init-e2e');
    assert.ok(report.traces.every((t: { found: boolean }) => t.found));
  });

  it('sets up Databricks with host and token: the token goes to .env only, and doctor passes', async () => {
    const cwd = await freshDir();
    const init = await runCli(
      [
        'init',
        '--yes',
        '--databricks-host',
        workspace.url,
        '--databricks-token',
        PAT,
        '--experiment',
        '/Shared/init-e2e',
        '--create-experiment',
        '--llm',
        'offline',
        '--json',
      ],
      { cwd },
    );
    assert.equal(init.code, 0, init.stderr + init.stdout);
    const summary = JSON.parse(init.stdout);
    assert.deepEqual(summary.destination, { kind: 'databricks', host: workspace.url });
    assert.deepEqual(summary.envFile, { path: join(cwd, '.env'), keys: ['DATABRICKS_TOKEN'], created: true });
    assert.equal(summary.next, 'otel-mlflow doctor');
    assert.doesNotMatch(init.stdout + init.stderr, new RegExp(PAT));
    assert.match(
      init.stderr,
      /^warning: --databricks-token on the command line can be read by other users \(ps\) .*pass `--databricks-token -` and give it on standard input, or set DATABRICKS_TOKEN$/m,
    );
    assert.deepEqual(summary.notes, [], 'outside a git work tree there is nothing to warn about');
    const configText = await readFile(join(cwd, '.otel-mlflowrc.json'), 'utf8');
    assert.doesNotMatch(configText, new RegExp(PAT));
    assert.deepEqual(JSON.parse(configText), {
      trackingUri: 'databricks',
      databricksHost: workspace.url,
      experimentName: '/Shared/init-e2e',
      llmProvider: 'offline',
    });
    assert.equal(await readFile(join(cwd, '.env'), 'utf8'), `DATABRICKS_TOKEN=${PAT}\n`);
    assert.equal((await stat(join(cwd, '.env'))).mode & 0o777, 0o600);

    const doctor = await runCli(['doctor', '--json'], { cwd });
    assert.equal(doctor.code, 0, doctor.stderr + doctor.stdout);
    assert.equal(JSON.parse(doctor.stdout).destination, 'databricks');
  });

  it('reads --databricks-token - from standard input, and writes the secrets to a new file named by --secrets-file', async () => {
    const cwd = await freshDir();
    const init = await runCli(
      [
        'init',
        '--yes',
        '--databricks-host',
        workspace.url,
        '--databricks-token',
        '-',
        '--experiment',
        '/Shared/init-secrets',
        '--create-experiment',
        '--llm',
        'offline',
        '--secrets-file',
        'secrets.env',
      ],
      { cwd, input: `${PAT}\n` },
    );
    assert.equal(init.code, 0, init.stderr + init.stdout);
    assert.doesNotMatch(init.stderr, /warning/);
    assert.match(init.stdout, /Wrote secrets\.env \(readable only by you\): DATABRICKS_TOKEN/);
    assert.equal(await readFile(join(cwd, 'secrets.env'), 'utf8'), `DATABRICKS_TOKEN=${PAT}\n`);
  });

  it('saves the OpenAI base URL it tested the key against, so ask sends the key to that server and no other', async () => {
    const openai = await startFakeOpenAI();
    after(() => openai.close());
    const cwd = await freshDir();
    const key = 'sk-local-compatible-0123456789';
    const init = await runCli(['init', '--yes', '--llm', 'openai', '--openai-api-key', key], {
      cwd,
      env: { OPENAI_BASE_URL: `${openai.url}/v1/` },
    });
    assert.equal(init.code, 0, init.stderr + init.stdout);
    assert.match(init.stdout, new RegExp(`OpenAI API key accepted by ${openai.url}/v1`));
    assert.deepEqual(JSON.parse(await readFile(join(cwd, '.otel-mlflowrc.json'), 'utf8')), {
      openaiBaseUrl: `${openai.url}/v1`,
      llmProvider: 'openai',
    });

    const ask = await runCli(['ask', 'What is a span?'], { cwd });
    assert.equal(ask.code, 0, ask.stderr + ask.stdout);
    const chat = openai.requests.at(-1)!;
    assert.equal(chat.headers.authorization, `Bearer ${key}`);
  });

  it('takes the OpenAI base URL from --openai-base-url', async () => {
    const openai = await startFakeOpenAI();
    after(() => openai.close());
    const cwd = await freshDir();
    const init = await runCli(
      ['init', '--yes', '--llm', 'openai', '--openai-api-key', 'sk-x-0123456789', '--openai-base-url', `${openai.url}/v1`],
      { cwd },
    );
    assert.equal(init.code, 0, init.stderr + init.stdout);
    assert.equal(JSON.parse(await readFile(join(cwd, '.otel-mlflowrc.json'), 'utf8')).openaiBaseUrl, `${openai.url}/v1`);
  });

  it('sets up Anthropic: the key read from stdin, tested against the base URL saved with it, and ask sends it there only', async () => {
    const key = 'sk-ant-api03-init-0123456789';
    const anthropic = await startFakeAnthropic({ apiKey: key });
    after(() => anthropic.close());
    const cwd = await freshDir();
    const init = await runCli(['init', '--yes', '--llm', 'anthropic', '--anthropic-api-key', '-'], {
      cwd,
      env: { ANTHROPIC_BASE_URL: `${anthropic.url}/` },
      input: `${key}\n`,
    });
    assert.equal(init.code, 0, init.stderr + init.stdout);
    assert.match(init.stdout, new RegExp(`Anthropic API key accepted by ${anthropic.url}\n`));
    assert.match(init.stdout, /Wrote \.env \(readable only by you\): ANTHROPIC_API_KEY/);
    assert.deepEqual(JSON.parse(await readFile(join(cwd, '.otel-mlflowrc.json'), 'utf8')), {
      anthropicBaseUrl: anthropic.url,
      llmProvider: 'anthropic',
    });
    assert.equal(await readFile(join(cwd, '.env'), 'utf8'), `ANTHROPIC_API_KEY=${key}\n`);

    const config = await runCli(['config'], { cwd });
    assert.match(config.stdout, /anthropicApiKey\s+\*{4}6789\s/);
    const ask = await runCli(['ask', 'What is a span?'], { cwd });
    assert.equal(ask.code, 0, ask.stderr + ask.stdout);
    // init's check sends the key as x-api-key, as the API documents; SDK 1 sends it as a bearer token.
    assert.equal(anthropic.requests.at(-1)!.headers.authorization, `Bearer ${key}`);
    assert.doesNotMatch([init, config, ask].map((run) => run.stdout + run.stderr).join('\n'), new RegExp(key));
  });

  it('refuses an Anthropic key the API refuses, with its reason, and writes nothing', async () => {
    const anthropic = await startFakeAnthropic({ apiKey: 'sk-ant-api03-the-right-one' });
    after(() => anthropic.close());
    const cwd = await freshDir();
    const wrong = 'sk-ant-api03-wrong-9876543210';
    const init = await runCli(
      ['init', '--yes', '--llm', 'anthropic', '--anthropic-api-key', wrong, '--anthropic-base-url', anthropic.url],
      {
        cwd,
      },
    );
    assert.equal(init.code, 5, init.stderr + init.stdout);
    assert.match(
      init.stderr,
      new RegExp(
        `^error: the Anthropic API at ${anthropic.url} refused the API key: HTTP 401 authentication_error: invalid x-api-key$`,
        'm',
      ),
    );
    assert.match(init.stderr, /hint: check the key/);
    assert.doesNotMatch(init.stdout + init.stderr, new RegExp(wrong));
    assert.equal(await exists(join(cwd, '.otel-mlflowrc.json')), false);
    assert.equal(await exists(join(cwd, '.env')), false);
  });

  it('a wrong OpenAI base URL: the error names the whole URL tried, and asks about an OpenAI-compatible API, not MLflow', async () => {
    const notOpenAi = await startFakeMlflow({ version: '3.8.1' });
    after(() => notOpenAi.close());
    const pageNotFound = await runCli(
      ['init', '--yes', '--llm', 'openai', '--openai-api-key', 'sk-x-0123456789', '--openai-base-url', notOpenAi.url],
      { cwd: await freshDir() },
    );
    assert.equal(pageNotFound.code, 4, pageNotFound.stderr + pageNotFound.stdout);
    assert.match(
      pageNotFound.stderr,
      new RegExp(
        `^error: GET ${notOpenAi.url}/models failed: HTTP 404: not found \\(HTML 404 page: is this an OpenAI-compatible API / the right path\\?\\)$`,
        'm',
      ),
    );

    const closed = await closedPortUrl();
    const nothing = await runCli(
      ['init', '--yes', '--llm', 'openai', '--openai-api-key', 'sk-x-0123456789', '--openai-base-url', `${closed}/v1`],
      { cwd: await freshDir() },
    );
    assert.equal(nothing.code, 4, nothing.stderr + nothing.stdout);
    assert.match(
      nothing.stderr,
      new RegExp(`^error: Nothing is listening at 127\\.0\\.0\\.1:\\d+ \\(connection refused\\) for GET ${closed}/v1/models$`, 'm'),
    );
  });

  it('refuses a tracking URI without a scheme with the exact URL to pass instead', async () => {
    const init = await runCli(
      ['init', '--yes', '--destination', 'mlflow', '--tracking-uri', 'localhost:5000', '--experiment', 'x', '--llm', 'offline'],
      { cwd: await freshDir() },
    );
    assert.equal(init.code, 2, init.stderr + init.stdout);
    assert.match(init.stderr, /error: the tracking URI has no scheme.*use http:\/\/localhost:5000$/m);
  });

  it('names a missing experiment without saying where the name came from twice', async () => {
    const init = await runCli(
      ['init', '--yes', '--destination', 'mlflow', '--tracking-uri', mlflow.url, '--experiment', 'not-there', '--llm', 'offline'],
      { cwd: await freshDir() },
    );
    assert.equal(init.code, 6, init.stderr + init.stdout);
    assert.match(init.stderr, /^error: experiment 'not-there' \(from your answer to init\) does not exist$/m);
  });

  it('refuses a wrong token with the reason, and writes nothing', async () => {
    const cwd = await freshDir();
    const wrong = 'dapi-wrong-token-9876543210';
    const init = await runCli(
      ['init', '--yes', '--destination', 'databricks', '--databricks-host', workspace.url, '--databricks-token', wrong, '--llm', 'offline'],
      { cwd },
    );
    assert.equal(init.code, 5, init.stderr + init.stdout);
    assert.match(init.stderr, /error: .*HTTP 403/);
    assert.match(init.stderr, /hint: /);
    assert.doesNotMatch(init.stdout + init.stderr, new RegExp(wrong));
    assert.equal(await exists(join(cwd, '.otel-mlflowrc.json')), false);
    assert.equal(await exists(join(cwd, '.env')), false);
  });

  it('does not overwrite an existing config file without --force', async () => {
    const cwd = await freshDir();
    await writeFile(join(cwd, '.otel-mlflowrc.json'), '{"experimentName":"keep-me"}\n');
    const refused = await runCli(['init', '--yes', '--llm', 'offline'], { cwd });
    assert.equal(refused.code, 2, refused.stderr + refused.stdout);
    assert.match(refused.stderr, /\.otel-mlflowrc\.json already exists; it was not overwritten/);
    assert.match(refused.stderr, /hint: rerun with --force/);
    assert.equal(await readFile(join(cwd, '.otel-mlflowrc.json'), 'utf8'), '{"experimentName":"keep-me"}\n');

    const forced = await runCli(['init', '--yes', '--force', '--llm', 'offline'], { cwd });
    assert.equal(forced.code, 0, forced.stderr + forced.stdout);
    assert.deepEqual(JSON.parse(await readFile(join(cwd, '.otel-mlflowrc.json'), 'utf8')), { llmProvider: 'offline' });
  });

  it('without a terminal or --yes, lists the flags to pass instead of asking', async () => {
    const init = await runCli(['init', '--destination', 'mlflow']);
    assert.equal(init.code, 2, init.stderr + init.stdout);
    assert.match(
      init.stderr,
      /error: init cannot ask here, and these answers have no default: pass --tracking-uri <url>, --experiment <name>, --llm openai\|anthropic\|databricks\|offline/,
    );
  });

  it('warns when .env is not ignored by git', {
    skip: hasGit ? false : 'git is not installed, so there is no work tree to ignore .env in',
  }, async () => {
    const cwd = await freshDir();
    const gitInit = spawnSync('git', ['init', '-q', cwd], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: cwd } });
    assert.equal(gitInit.status, 0, gitInit.stderr);
    const args = [
      'init',
      '--yes',
      '--databricks-host',
      workspace.url,
      '--databricks-token',
      PAT,
      '--experiment',
      '/Shared/git-check',
      '--create-experiment',
      '--llm',
      'offline',
    ];
    const exposed = await runCli(args, { cwd });
    assert.equal(exposed.code, 0, exposed.stderr + exposed.stdout);
    assert.match(exposed.stdout, /! \.env holds secrets but git does not ignore it: add it to \.gitignore/);

    await writeFile(join(cwd, '.gitignore'), '.env\n');
    const ignored = await runCli([...args, '--force'], { cwd });
    assert.equal(ignored.code, 0, ignored.stderr + ignored.stdout);
    assert.doesNotMatch(ignored.stdout, /gitignore/);
  });
});

const drivers = availableDrivers();

describe('otel-mlflow init at a terminal, answered by a person', {
  skip: drivers.length === 0 ? 'neither tmux nor python3 (pty) is installed, so no terminal can be driven' : false,
}, () => {
  let mlflow: FakeMlflow;
  const cleanups: (() => Promise<void>)[] = [];
  before(async () => {
    mlflow = await startFakeMlflow();
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await mlflow.close();
  });

  /** `init` at a terminal in a new directory that is also HOME, prepared by `prepare`; both cleaned up after. */
  async function initInEmptyDir(
    driver: TerminalDriver,
    prepare?: (dir: string) => Promise<void>,
  ): Promise<{ root: string; terminal: Terminal }> {
    const root = await mkdtemp(join(tmpdir(), 'otel-mlflow-init-tty-'));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    await prepare?.(root);
    const terminal = await startTerminal(driver, {
      argv: [process.execPath, BIN, 'init'],
      cwd: root,
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: root, TERM: 'xterm-256color' },
    });
    cleanups.push(() => terminal.close());
    return { root, terminal };
  }

  for (const driver of drivers) {
    it(`sets up a local MLflow server from typed answers (${driver}), and then doctor passes`, async () => {
      const root = await mkdtemp(join(tmpdir(), 'otel-mlflow-init-tty-'));
      const cwd = join(root, 'project');
      const home = join(root, 'home');
      await mkdir(cwd);
      await mkdir(home);
      const terminal: Terminal = await startTerminal(driver, {
        argv: [process.execPath, BIN, 'init'],
        cwd,
        env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home, TERM: 'xterm-256color' },
      });
      cleanups.push(
        () => terminal.close(),
        () => rm(root, { recursive: true, force: true }),
      );
      const experiment = `typed-by-${driver}`;

      await terminal.waitFor('Where should traces go?');
      await terminal.press('Down');
      await terminal.waitFor(/❯ Databricks/);
      await terminal.press('Up');
      await terminal.waitFor(/❯ A local MLflow server/);
      await terminal.press('Enter');

      await terminal.waitFor('MLflow tracking URI');
      await terminal.type(mlflow.url);
      await terminal.press('Enter');
      await terminal.waitFor(`MLflow 3.8.1 at ${mlflow.url}`);

      await terminal.waitFor(/Which experiment should the traces go to\?[\s\S]*❯ Create a new experiment/);
      await terminal.press('Enter');
      await terminal.waitFor('Name of the new experiment');
      await terminal.type(experiment);
      await terminal.press('Enter');
      await terminal.waitFor(`Created experiment '${experiment}'`);

      await terminal.waitFor(
        /Which LLM should answer\?[\s\S]*A Databricks serving endpoint \(needs DATABRICKS_HOST and a token, or traces to Databricks\)[\s\S]*❯ Offline/,
      );
      // The cursor passes over the choice it cannot take.
      await terminal.press('Up');
      await terminal.waitFor(/❯ Anthropic \(Claude\)/);
      await terminal.press('Down');
      await terminal.waitFor(/❯ Offline/);
      await terminal.press('Enter');
      const end = await terminal.waitFor('[exited with status');
      assert.match(
        end,
        /Wrote \.otel-mlflowrc\.json:\s+trackingUri: http:\/\/127\.0\.0\.1:\d+\s+experimentName: \S+\s+llmProvider: offline/,
      );
      assert.match(end, /Next: run otel-mlflow doctor/);
      assert.match(end, /\[exited with status 0\]/);

      assert.ok(mlflow.store.experimentByName(experiment), 'the experiment exists in MLflow');
      const doctor = await runCli(['doctor'], { cwd });
      assert.equal(doctor.code, 0, doctor.stderr + doctor.stdout);
      assert.match(doctor.stdout, new RegExp(`Experiment: '${experiment}'`));
    });

    it(`"No" to replacing the config file keeps it: said plainly, exit 0, no error (${driver})`, async () => {
      const { root, terminal } = await initInEmptyDir(driver, (dir) =>
        writeFile(join(dir, '.otel-mlflowrc.json'), '{"experimentName":"mine"}\n'),
      );
      await terminal.waitFor('.otel-mlflowrc.json already exists. Replace it?');
      await terminal.type('n');
      await terminal.press('Enter');
      const end = await terminal.waitFor('[exited with status');
      assert.match(end, /Kept \.otel-mlflowrc\.json as it is: nothing was written\./);
      assert.doesNotMatch(end, /error:/);
      assert.match(end, /\[exited with status 0\]/);
      assert.equal(await readFile(join(root, '.otel-mlflowrc.json'), 'utf8'), '{"experimentName":"mine"}\n');
    });

    it(`exits 130 on Ctrl-C, as every other command does, and writes nothing (${driver})`, async () => {
      const { root, terminal } = await initInEmptyDir(driver);
      await terminal.waitFor('Where should traces go?');
      await terminal.press('CtrlC');
      const end = await terminal.waitFor('[exited with status');
      assert.match(end, /init was cancelled; nothing was written/);
      assert.match(end, /\[exited with status 130\]/);
      assert.equal(await exists(join(root, '.otel-mlflowrc.json')), false);
    });
  }
});
