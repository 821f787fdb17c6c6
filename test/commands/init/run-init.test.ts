import assert from 'node:assert/strict';
import { access, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExpectedError } from '../../../src/errors.ts';
import { ConfigFileKept, runInit, type InitOptions } from '../../../src/commands/init/run-init.ts';
import { closedPortUrl } from '../../cli/closed-port.ts';
import { createTempProject, type TempProject } from '../../config/temp-project.ts';
import { startFakeAnthropic } from '../../fakes/fake-anthropic.ts';
import { startFakeDatabricks, type FakeDatabricks } from '../../fakes/fake-databricks.ts';
import { startFakeMlflow, type FakeMlflow } from '../../fakes/fake-mlflow.ts';
import { listen, type Listening } from '../../fakes/listen.ts';
import { recordedProgress, scriptedPrompter, type ScriptedAnswer } from './scripted-prompter.ts';

const GOOD_KEY = 'sk-good-0123456789';
const PAT = 'dapi-workspace-token-0123';

/** GET /v1/models as OpenAI answers it: a list for a valid key, 401 for any other. */
async function startModelsApi(): Promise<Listening> {
  return listen((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models' && req.headers.authorization === `Bearer ${GOOD_KEY}`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}');
      return;
    }
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(
      '{"error":{"message":"Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","code":"invalid_api_key"}}',
    );
  });
}

function options(project: TempProject, script: ScriptedAnswer[] | undefined, overrides: Partial<InitOptions> = {}) {
  const prompter = script && scriptedPrompter(script);
  const progress = recordedProgress();
  const init: InitOptions = {
    cwd: project.cwd,
    homeDir: project.home,
    env: {},
    answers: { createExperiment: false },
    configFile: join(project.cwd, '.otel-mlflowrc.json'),
    envFile: join(project.cwd, '.env'),
    force: false,
    ...(prompter && { prompter }),
    progress,
    ...overrides,
  };
  return { init, prompter, progress };
}

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('init, answered by a person', () => {
  let mlflow: FakeMlflow;
  let models: Listening;
  before(async () => {
    mlflow = await startFakeMlflow();
    mlflow.createExperiment('team-exp');
    models = await startModelsApi();
  });
  after(async () => {
    await mlflow.close();
    await models.close();
  });

  it('asks again after a server that does not answer, lists experiments, and retries a refused OpenAI key', async () => {
    const project = createTempProject();
    after(() => project.remove());
    const { init, prompter, progress } = options(
      project,
      [
        { asks: /Where should traces go/, answer: 'mlflow' },
        { asks: /MLflow tracking URI/, answer: await closedPortUrl() },
        { asks: /What now/, answer: { named: 'Try another answer' } },
        { asks: /MLflow tracking URI/, answer: mlflow.url },
        { asks: /Which experiment/, answer: 'team-exp' },
        { asks: /Which LLM/, answer: 'openai' },
        { asks: /Base URL of the OpenAI API/, answer: '' },
        { asks: /OpenAI API key/, answer: 'sk-wrong-key-999' },
        { asks: /OpenAI API key/, answer: GOOD_KEY },
        { asks: /OpenAI model/, answer: '' },
      ],
      { env: { OPENAI_BASE_URL: `${models.url}/v1` } },
    );
    const result = await runInit(init);
    prompter!.assertDone();

    assert.match(progress.lines.join('\n'), /✖ Nothing is listening at 127\.0\.0\.1:\d+ \(connection refused\)/);
    assert.match(progress.lines.join('\n'), /✖ the OpenAI API at .* refused the API key: HTTP 401 invalid_api_key/);
    assert.doesNotMatch(progress.lines.join('\n'), /sk-wrong-key-999|sk-good/);
    const experiments = prompter!.asked.find((q) => /Which experiment/.test(q.message))!.choices!.map((c) => c.name);
    assert.deepEqual(experiments, ['Create a new experiment', 'team-exp', 'Default']);

    assert.deepEqual(await readJson(init.configFile), {
      trackingUri: mlflow.url,
      experimentName: 'team-exp',
      openaiBaseUrl: `${models.url}/v1`,
      llmProvider: 'openai',
      llmModel: 'gpt-4o-mini',
    });
    assert.equal(await readFile(init.envFile, 'utf8'), `OPENAI_API_KEY=${GOOD_KEY}\n`);
    assert.equal((await stat(init.envFile)).mode & 0o777, 0o600);
    assert.deepEqual(result.experiment, { id: mlflow.store.experimentByName('team-exp')!.experimentId, name: 'team-exp', action: 'found' });
    assert.deepEqual(result.notes, []);
    const config = await project.load({ env: {} });
    assert.equal(config.openai.apiKey?.value, GOOD_KEY, 'the loader finds the key in .env');
  });

  it('sets up Anthropic: asks the base URL and the key, asks the key again when the API refuses it, and offers Claude models', async () => {
    const key = 'sk-ant-api03-person-0123456789';
    const anthropic = await startFakeAnthropic({ apiKey: key });
    const project = createTempProject();
    after(async () => {
      await anthropic.close();
      await project.remove();
    });
    const { init, prompter, progress } = options(
      project,
      [
        { asks: /Where should traces go/, answer: 'local' },
        { asks: /Which LLM/, answer: 'anthropic' },
        { asks: /Base URL of the Anthropic API/, answer: '' },
        { asks: /Anthropic API key \(saved to the env file as ANTHROPIC_API_KEY\)/, answer: 'sk-ant-api03-typo-999' },
        { asks: /Anthropic API key/, answer: key },
        { asks: /Anthropic model/, answer: '' },
      ],
      { env: { ANTHROPIC_BASE_URL: anthropic.url } },
    );
    const result = await runInit(init);
    prompter!.assertDone();
    assert.equal(prompter!.asked.find((q) => /Base URL of the Anthropic API/.test(q.message))!.default, anthropic.url);
    assert.equal(prompter!.asked.find((q) => /Anthropic model/.test(q.message))!.default, 'claude-haiku-5-5');
    const shown = progress.lines.join('\n');
    assert.match(shown, /✖ the Anthropic API at .* refused the API key: HTTP 401 authentication_error: invalid x-api-key/);
    assert.match(shown, new RegExp(`✔ Anthropic API key accepted by ${anthropic.url}`));
    assert.doesNotMatch(shown, /sk-ant-api03/);
    assert.deepEqual(result.llm, { provider: 'anthropic', model: 'claude-haiku-5-5' });
    assert.deepEqual(await readJson(init.configFile), {
      anthropicBaseUrl: anthropic.url,
      llmProvider: 'anthropic',
      llmModel: 'claude-haiku-5-5',
    });
    assert.equal(await readFile(init.envFile, 'utf8'), `ANTHROPIC_API_KEY=${key}\n`);
    const config = await project.load({ env: {} });
    assert.equal(config.anthropic?.apiKey?.value, key, 'the loader finds the key in .env');
  });

  it('goes back to "Where should traces go?" after a failed answer when the person asks to, and sets up the new choice', async () => {
    const project = createTempProject();
    after(() => project.remove());
    const { init, prompter } = options(project, [
      { asks: /Where should traces go/, answer: 'mlflow' },
      { asks: /MLflow tracking URI/, answer: await closedPortUrl() },
      { asks: /What now/, answer: { named: 'Back to "Where should traces go?"' } },
      { asks: /Where should traces go/, answer: 'local' },
      { asks: /Which LLM/, answer: 'offline' },
    ]);
    const result = await runInit(init);
    prompter!.assertDone();
    const back = prompter!.asked.filter((q) => /Where should traces go/.test(q.message));
    assert.equal(back[1]!.default, 'mlflow', 'the cursor starts on the choice that failed');
    assert.deepEqual(result.destination, { kind: 'local' });
    assert.deepEqual(await readJson(init.configFile), { llmProvider: 'offline' });
  });

  it('asks for credentials when the server wants them, and keeps them in .env only', async () => {
    const guarded = await startFakeMlflow({ auth: { username: 'alice', password: 'p@ss word#1' } });
    const project = createTempProject();
    after(async () => {
      await guarded.close();
      await project.remove();
    });
    const { init, prompter } = options(project, [
      { asks: /Where should traces go/, answer: 'mlflow' },
      { asks: /MLflow tracking URI/, answer: guarded.url },
      { asks: /What now/, answer: { named: 'Try another answer' } },
      { asks: /wants credentials/, answer: 'basic' },
      { asks: /Username/, answer: 'alice' },
      { asks: /Password/, answer: 'p@ss word#1' },
      { asks: /Which experiment/, answer: { named: 'Create a new experiment' } },
      { asks: /Name of the new experiment/, answer: 'created-by-init' },
      { asks: /Which LLM/, answer: 'offline' },
    ]);
    await runInit(init);
    prompter!.assertDone();
    assert.ok(guarded.store.experimentByName('created-by-init'), 'the experiment was created');
    const configText = await readFile(init.configFile, 'utf8');
    assert.doesNotMatch(configText, /alice|p@ss/);
    const config = await project.load({ env: {} });
    assert.equal(config.auth.kind, 'basic');
    assert.deepEqual(config.auth.kind === 'basic' && [config.auth.username.value, config.auth.password.value], ['alice', 'p@ss word#1']);
  });

  it('asks before creating an experiment named by flag, and before replacing a config file', async () => {
    const project = createTempProject();
    after(() => project.remove());
    await writeFile(join(project.cwd, '.otel-mlflowrc.json'), '{"experimentName":"old"}\n');
    const { init, prompter } = options(
      project,
      [
        { asks: /\.otel-mlflowrc\.json already exists\. Replace it\?/, answer: true },
        { asks: /Experiment 'from-flag' does not exist\. Create it\?/, answer: true },
      ],
      { answers: { createExperiment: false, destination: 'mlflow', trackingUri: mlflow.url, experiment: 'from-flag', llm: 'offline' } },
    );
    await runInit(init);
    prompter!.assertDone();
    assert.equal((await readJson(init.configFile)).experimentName, 'from-flag');
  });

  it('writes nothing when the person will not replace the config file', async () => {
    const project = createTempProject();
    after(() => project.remove());
    await writeFile(join(project.cwd, '.otel-mlflowrc.json'), '{"experimentName":"old"}\n');
    const { init } = options(project, [{ asks: /already exists/, answer: false }]);
    await assert.rejects(runInit(init), (error: unknown) => error instanceof ConfigFileKept && error.path === init.configFile);
    assert.equal(await readFile(init.configFile, 'utf8'), '{"experimentName":"old"}\n');
    assert.equal(await exists(init.envFile), false);
  });
});

describe('init with Databricks', () => {
  let workspace: FakeDatabricks;
  before(async () => {
    workspace = await startFakeDatabricks({ pat: PAT });
    workspace.createExperiment('/Users/ana@example.com/earlier');
  });
  after(() => workspace.close());

  it('lists the profiles of ~/.databrickscfg and signs in with the one picked, writing no secret', async () => {
    const project = createTempProject();
    after(() => project.remove());
    await project.writeHome(
      '.databrickscfg',
      `[DEFAULT]\nhost = https://unused.cloud.databricks.com\n\n[dev]\nhost = ${workspace.url}\ntoken = ${PAT}\n`,
    );
    const { init, prompter } = options(project, [
      { asks: /Where should traces go/, answer: 'databricks' },
      { asks: /sign in to Databricks\? \(profiles from ~\/\.databrickscfg\)/, answer: 'dev' },
      { asks: /Which experiment/, answer: { named: 'Create a new experiment' } },
      { asks: /Name of the new experiment/, answer: '' },
      { asks: /Which LLM/, answer: 'databricks' },
      { asks: /serving endpoint name/, answer: 'my-endpoint' },
    ]);
    const result = await runInit(init);
    prompter!.assertDone();
    const profiles = prompter!.asked[1]!.choices!;
    assert.deepEqual(
      profiles.map((c) => [c.name, c.disabled ?? null]),
      [
        ['Profile DEFAULT', 'no token or client credentials'],
        ['Profile dev', null],
        ['A workspace URL and a personal access token', null],
      ],
    );
    assert.equal(prompter!.asked[3]!.default, '/Users/ana@example.com/otel-mlflow', "suggested next to the person's own experiments");
    assert.deepEqual(await readJson(init.configFile), {
      trackingUri: 'databricks',
      databricksProfile: 'dev',
      experimentName: '/Users/ana@example.com/otel-mlflow',
      llmProvider: 'databricks',
      llmModel: 'my-endpoint',
    });
    assert.equal(result.envFile, undefined);
    assert.equal(await exists(init.envFile), false);
    const config = await project.load({ env: {} });
    assert.equal(config.destination.kind === 'databricks' && config.destination.host.value, workspace.url);
  });

  it('asks for the token again when the workspace refuses it, and offers no saving it untested', async () => {
    const project = createTempProject();
    after(() => project.remove());
    const { init, prompter, progress } = options(
      project,
      [
        { asks: /Personal access token/, answer: 'dapi-wrong' },
        { asks: /What now/, answer: { named: 'Try another answer' } },
        { asks: /Personal access token/, answer: PAT },
      ],
      {
        answers: {
          createExperiment: true,
          destination: 'databricks',
          databricksHost: workspace.url,
          experiment: '/Shared/from-init',
          llm: 'offline',
        },
      },
    );
    await runInit(init);
    prompter!.assertDone();
    assert.match(progress.lines.join('\n'), /✖ .*HTTP 403/);
    assert.ok(
      !prompter!.asked[1]!.choices!.some((c) => c.name.startsWith('Save it untested')),
      'a refused token is no server that is away: never saved untested',
    );
    assert.equal(await readFile(init.envFile, 'utf8'), `DATABRICKS_TOKEN=${PAT}\n`);
    assert.doesNotMatch(await readFile(init.configFile, 'utf8'), new RegExp(PAT));
  });

  it('a workspace that does not answer (a VPN not connected) can be saved untested, with the experiment named and a note to run doctor later', async () => {
    const project = createTempProject();
    after(() => project.remove());
    const unreachable = await closedPortUrl();
    const { init, prompter, progress } = options(
      project,
      [
        { asks: /Personal access token/, answer: PAT },
        { asks: /What now/, answer: { named: 'Save it untested: traces wait in the local store until it answers' } },
        { asks: /Experiment name \(created when the first traces arrive\)/, answer: '' },
      ],
      { answers: { createExperiment: false, destination: 'databricks', databricksHost: unreachable, llm: 'offline' } },
    );
    const result = await runInit(init);
    prompter!.assertDone();
    assert.match(progress.lines.join('\n'), /✖ Nothing is listening at 127\.0\.0\.1:\d+/);
    assert.deepEqual(
      prompter!.asked[1]!.choices!.map((c) => c.name),
      ['Try another answer', 'Save it untested: traces wait in the local store until it answers', 'Back to "Where should traces go?"'],
    );
    assert.deepEqual(await readJson(init.configFile), {
      trackingUri: 'databricks',
      databricksHost: unreachable,
      experimentName: '/Shared/otel-mlflow',
      llmProvider: 'offline',
    });
    assert.equal(await readFile(init.envFile, 'utf8'), `DATABRICKS_TOKEN=${PAT}\n`);
    assert.deepEqual(result.destination, { kind: 'databricks', host: unreachable, untested: true });
    assert.match(
      result.notes.join('\n'),
      /The Databricks workspace http:\/\/127\.0\.0\.1:\d+ did not answer, so nothing about it was tested.*run `otel-mlflow doctor` then/,
    );
  });

  it('fails at once without a person to ask, and writes nothing', async () => {
    const project = createTempProject();
    after(() => project.remove());
    const { init } = options(project, undefined, {
      answers: {
        createExperiment: true,
        destination: 'databricks',
        databricksHost: workspace.url,
        databricksToken: 'dapi-wrong',
        experiment: '/Shared/x',
        llm: 'offline',
      },
    });
    await assert.rejects(
      runInit(init),
      (error: unknown) => error instanceof ExpectedError && error.exitCode === 5 && !error.message.includes('dapi-wrong'),
    );
    assert.equal(await exists(init.configFile), false);
    assert.equal(await exists(init.envFile), false);
  });
});

describe('init without a person to ask', () => {
  it('names every flag it still needs before testing anything', async () => {
    const project = createTempProject();
    after(() => project.remove());
    const { init } = options(project, undefined, { answers: { createExperiment: false, destination: 'mlflow' } });
    await assert.rejects(runInit(init), (error: unknown) => {
      return (
        error instanceof ExpectedError &&
        error.exitCode === 2 &&
        /pass --tracking-uri <url>, --experiment <name>, --llm openai\|anthropic\|databricks\|offline/.test(error.message)
      );
    });
  });

  it('checks a collector with an empty export request: any HTTP answer will do', async () => {
    const seen: { method?: string; type?: string; length?: string }[] = [];
    const collector = await listen((req, res) => {
      seen.push({ method: req.method, type: req.headers['content-type'], length: req.headers['content-length'] });
      res.writeHead(415).end();
    });
    const project = createTempProject();
    after(async () => {
      await collector.close();
      await project.remove();
    });
    const { init, progress } = options(project, undefined, {
      answers: { createExperiment: false, destination: 'collector', otlpEndpoint: collector.url, llm: 'offline' },
    });
    const result = await runInit(init);
    assert.deepEqual(seen, [{ method: 'POST', type: 'application/x-protobuf', length: '0' }]);
    assert.deepEqual(result.destination, { kind: 'collector', endpoint: `${collector.url}/v1/traces` });
    assert.match(progress.lines.join('\n'), /answered \(HTTP 415\)/);
    assert.deepEqual(await readJson(init.configFile), { otlpEndpoint: `${collector.url}/v1/traces`, llmProvider: 'offline' });
  });

  it('sets up the databricks LLM from DATABRICKS_HOST and DATABRICKS_TOKEN while traces stay local', async () => {
    const project = createTempProject();
    after(() => project.remove());
    const env = { DATABRICKS_HOST: 'https://dbc-1.cloud.databricks.com', DATABRICKS_TOKEN: 'dapi-serving-0123' };
    const { init } = options(project, undefined, { env, answers: { createExperiment: false, destination: 'local', llm: 'databricks' } });
    const result = await runInit(init);
    assert.equal(result.llm.provider, 'databricks');
    assert.deepEqual(await readJson(init.configFile), { llmProvider: 'databricks' });
    const config = await project.load({ env, purpose: 'app' });
    assert.equal(config.destination.kind, 'local');
    const serving = config.llm.databricks;
    assert.ok(serving && 'host' in serving);
    assert.equal(serving.host.value, 'https://dbc-1.cloud.databricks.com');
  });

  it('says when the environment would override what it wrote', async () => {
    const mlflow = await startFakeMlflow();
    const project = createTempProject();
    after(async () => {
      await mlflow.close();
      await project.remove();
    });
    const { init } = options(project, undefined, {
      env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:1' },
      answers: { createExperiment: true, destination: 'mlflow', trackingUri: mlflow.url, experiment: 'e', llm: 'offline' },
    });
    const result = await runInit(init);
    assert.deepEqual(result.notes, [
      'env MLFLOW_TRACKING_URI overrides trackingUri in .otel-mlflowrc.json: unset it, or the new setting has no effect',
    ]);
  });
});
