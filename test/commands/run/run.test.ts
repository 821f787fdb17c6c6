import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { closedPortUrl } from '../../cli/closed-port.ts';
import { oldNode } from '../../cli/old-node.ts';
import { availableDrivers, startTerminal } from '../init/terminal-driver.ts';
import { startListening, startRelayProcess, type ServeProcess, type StartOptions } from '../../cli/serve-process.ts';
import { startFakeMlflow, type FakeMlflow } from '../../fakes/fake-mlflow.ts';
import { startFakeAnthropic, type FakeAnthropic } from '../../fakes/fake-anthropic.ts';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIRequest, type FakeReply } from '../../fakes/fake-openai.ts';
import type { StoredTrace } from '../../fakes/trace-store.ts';
import { startFaultyProxy } from '../../fakes/faulty-proxy.ts';
import { listen } from '../../fakes/listen.ts';
import { until } from '../../fakes/until.ts';
import { exitCodeOf } from '../../../src/commands/run/program-process.ts';
import { copyApps, installCopy } from './app-project.ts';

const BIN = fileURLToPath(new URL('../../../bin/otel-mlflow.js', import.meta.url));
const APPS = fileURLToPath(new URL('./apps/', import.meta.url));
/** tsx's command line: it runs the program in a Node of its own, with its module hooks. */
const TSX_CLI = fileURLToPath(import.meta.resolve('tsx/cli'));
const SYSTEM_NODE = '/usr/bin/node';
const EXPERIMENT = 'my-app';
const execute = promisify(execFile);

/** The tools call asks for the weather first, then answers from the tool's result. */
function script({ body, headers }: FakeOpenAIRequest): FakeReply {
  // Undefined on the Responses API and embeddings.
  const messages = body.messages as { role: string; content?: unknown }[] | undefined;
  // As many OpenAI-compatible servers refuse a key: by echoing it.
  if (messages?.at(-1)?.content === 'echo my key') {
    return { status: 401, errorMessage: `Incorrect API key provided: ${String(headers.authorization).replace(/^Bearer /, '')}` };
  }
  if (body.tools && messages?.at(-1)?.role !== 'tool') {
    return { toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }] };
  }
  return { content: `answer ${body.stream ? 'streamed' : 'plain'}`, answerAfter: held };
}

/** While set, the fake OpenAI holds its answers until it settles: calls in flight when a test acts. */
let held: Promise<void> | undefined;

let mlflow: FakeMlflow;
let openai: FakeOpenAI;
let anthropic: FakeAnthropic;
let root: string;
before(async () => {
  [mlflow, openai, anthropic] = await Promise.all([
    startFakeMlflow({ version: '3.8.1' }),
    startFakeOpenAI({ script }),
    startFakeAnthropic(),
  ]);
  root = await mkdtemp(join(tmpdir(), 'otel-mlflow-run-'));
});
after(() => Promise.all([mlflow.close(), openai.close(), anthropic.close(), rm(root, { recursive: true, force: true })]));
let stores = 0;

/** `otel-mlflow run -- <node> <app>` as a user starts it (or `-- <node> <runner> <app>`); ready once the app says where it listens. */
function runApp(
  node: string | string[],
  app: string,
  env: Record<string, string> = {},
  flags: string[] = [],
  dir = APPS,
  started: StartOptions = {},
): Promise<ServeProcess> {
  return runCommand([...[node].flat(), join(dir, app)], env, flags, started);
}

/** `otel-mlflow run -- <command>` against the fakes, with a store of its own; ready once the app says where it listens. */
function runCommand(
  command: string[],
  env: Record<string, string> = {},
  flags: string[] = [],
  started: StartOptions = {},
): Promise<ServeProcess> {
  return startListening(
    ['run', ...flags, '--', ...command],
    Object.fromEntries(
      Object.entries({
        MLFLOW_TRACKING_URI: mlflow.url,
        MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
        OTEL_MLFLOW_STORE_DIR: join(root, `store-${++stores}`),
        // The spool's fallback is in the temporary directory, which other runs on this machine share.
        TMPDIR: root,
        FAKE_OPENAI_URL: openai.url,
        FAKE_ANTHROPIC_URL: anthropic.url,
        ...env,
      }).filter(([, value]) => value !== ''),
    ),
    /listening on (http:\/\/\S+)/,
    started,
  );
}

/** A project whose `npm start` runs the ES module app, named `checkout-api` in its package.json. */
async function npmProject(name: string): Promise<string> {
  const project = join(root, name);
  await mkdir(project, { recursive: true });
  const start = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(APPS, 'esm-app.mjs'))}`;
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'checkout-api', private: true, scripts: { start } }));
  return project;
}

/** Whether this machine lets a process be PID 1 of a namespace of its own. */
function pidNamespaces(): boolean {
  return spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
}

/** The processes `pid` started, from /proc. */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
}

/**
 * `otel-mlflow run [flags] -- <app>` to its end, for a program with an OpenTelemetry set-up of its own
 * and no preload: with NODE_OPTIONS cleared, a Node program stands in for a Python, Go or Java one,
 * which only the endpoint variables reach. A store of its own, named after the app.
 */
function runOwnSetUp(app: string, env: Record<string, string>, flags: string[] = []) {
  return execute(process.execPath, [BIN, 'run', ...flags, '--', 'env', '-u', 'NODE_OPTIONS', process.execPath, join(APPS, app)], {
    env: { PATH: process.env.PATH, HOME: root, MLFLOW_EXPERIMENT_NAME: EXPERIMENT, OTEL_MLFLOW_STORE_DIR: join(root, app), ...env },
  });
}

/** The pid of the program `run` runs, as the test apps print it as they start: `esm-app (pid 123) listening on …`. */
function programPid(running: ServeProcess): number {
  return Number(/\(pid (\d+)\)/.exec(running.output())?.[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function post(url: string, body: unknown): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(response.status, 200);
  return response.text();
}

function traceRootedAt(name: string, question: string): StoredTrace | undefined {
  return mlflow.store
    .traces()
    .find(
      (trace) =>
        trace.spans.some((span) => span.parentSpanId === null && span.name === name) && trace.info.request_preview?.includes(question),
    );
}

/** The names of the spans right under the trace's root, sorted. */
function namesUnderRoot(trace: StoredTrace): string[] {
  const root = trace.spans.find((span) => span.parentSpanId === null)!;
  return trace.spans
    .filter((span) => span.parentSpanId === root.spanId)
    .map((span) => span.name)
    .sort();
}

const APPS_BY_FORMAT = [
  ['an ES module app', 'esm-app.mjs'],
  ['a CommonJS app', 'cjs-app.cjs'],
] as const;
const NODES = [
  ['the system Node 20', SYSTEM_NODE],
  ['the pinned Node', process.execPath],
] as const;

for (const [format, app] of APPS_BY_FORMAT) {
  for (const [nodeName, node] of NODES) {
    describeTracedApp(`otel-mlflow run -- node: ${format} on ${nodeName}, unchanged`, node, app, () => APPS);
  }
}

/**
 * Older SDK versions still in wide use, laid out otherwise than the current ones: the last openai 4
 * (before 5's rewrite) and an early one (4.0 to 4.12 build a stream from the response, 4.0 to 4.18
 * name a resource's client `client`, and before 4.87 there is no Responses API), each beside
 * @anthropic-ai/sdk 0.41 (before 0.50's rewrite: no `withOptions()`).
 */
for (const { openaiCopy, version, responsesApi, apps } of [
  {
    openaiCopy: 'openai-v4',
    version: '4.104',
    responsesApi: true,
    apps: [
      ['an ES module app on the pinned Node', process.execPath, 'esm-app.mjs'],
      ['a CommonJS app on the system Node 20', SYSTEM_NODE, 'cjs-app.cjs'],
    ],
  },
  {
    openaiCopy: 'openai-v4-early',
    version: '4.12',
    responsesApi: false,
    apps: [['an ES module app on the pinned Node', process.execPath, 'esm-app.mjs']],
  },
] as const) {
  describe(`otel-mlflow run: a program on openai ${version} and @anthropic-ai/sdk 0.41`, () => {
    let dir: string;
    before(async () => {
      dir = join(root, openaiCopy);
      const modules = join(dir, 'node_modules');
      await copyApps(dir, ['esm-app.mjs', 'cjs-app.cjs', 'routes.cjs']);
      await installCopy(modules, '@opentelemetry/api');
      await installCopy(modules, openaiCopy, 'openai');
      await installCopy(modules, 'anthropic-sdk-v0', '@anthropic-ai/sdk');
    });
    for (const [title, node, app] of apps) describeTracedApp(title, node, app, () => dir, { responsesApi });
  });
}

/** `app` run unchanged under `run`, asked every route once (the Responses API's where its openai has it), and the traces MLflow got of each. */
function describeTracedApp(title: string, node: string, app: string, appDir: () => string, { responsesApi = true } = {}): void {
  describe(title, () => {
    const tag = `${app}@${node === SYSTEM_NODE ? 20 : 'pinned'} ${title}`;
    let stopped: Awaited<ReturnType<ServeProcess['stop']>>;
    before(async () => {
      const running = await runApp(node, app, { EXIT_CODE_ON_SIGTERM: '42' }, [], appDir());
      assert.match(await post(`${running.url}/chat`, { question: `plain ${tag}` }), /answer plain/);
      assert.match(await post(`${running.url}/stream`, { question: `stream ${tag}` }), /streamed/);
      assert.match(await post(`${running.url}/tools`, { question: `tools ${tag}` }), /answer plain/);
      if (responsesApi) await post(`${running.url}/responses`, { question: `responses ${tag}` });
      await post(`${running.url}/embed`, { question: `embed ${tag}` });
      assert.match(await post(`${running.url}/claude`, { question: `claude ${tag}` }), /fake Claude/);
      assert.match(await post(`${running.url}/claude-stream`, { question: `claude stream ${tag}` }), /Claude/);
      stopped = await running.stop('SIGTERM');
    });

    it('passes SIGTERM on, and exits with the program’s exit code, its output untouched', () => {
      assert.equal(stopped.forced, false);
      assert.equal(stopped.code, 42);
      assert.match(stopped.stdout, /^\w+-app \(pid \d+\) listening on http:\/\/127\.0\.0\.1:\d+\n\w+-app: SIGTERM received\n$/);
      assert.match(stopped.stderr, new RegExp(`^\\w+-app: a line on stderr\ntraces: ${responsesApi ? 7 : 6} delivered\n$`));
    });

    it('makes one trace per request, rooted at the request, with the app’s own span and the LLM calls nested under it', () => {
      const chat = traceRootedAt('POST /chat', `plain ${tag}`);
      assert.ok(chat, 'the /chat trace is in MLflow');
      const root = chat.spans.find((span) => span.parentSpanId === null)!;
      assert.equal(root.attributes['mlflow.spanType'], 'CHAIN');
      assert.equal(root.attributes['http.response.status_code'], 200);
      assert.deepEqual(namesUnderRoot(chat), ['chat gpt-4o-mini', 'load-history']);
      const llm = chat.spans.find((span) => span.name === 'chat gpt-4o-mini')!;
      assert.equal(llm.attributes['mlflow.spanType'], 'CHAT_MODEL');
      assert.equal(chat.info.state, 'OK');
      assert.match(chat.info.response_preview ?? '', /answer plain/);
      assert.deepEqual(JSON.parse(chat.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null'), {
        input_tokens: 11,
        output_tokens: 7,
        total_tokens: 18,
      });
    });

    it('traces a streamed completion whole, and both calls of a tool round, each once', () => {
      const stream = traceRootedAt('POST /stream', `stream ${tag}`);
      assert.ok(stream, 'the /stream trace is in MLflow');
      // The app streams the answer to its client as server-sent events: MLflow previews the text they carried (as
      // it previews any text answer: JSON-quoted), not the frames.
      assert.equal(stream.info.response_preview, '"answer streamed"');
      const llm = stream.spans.find((span) => span.attributes['mlflow.spanType'] === 'CHAT_MODEL');
      assert.match(
        String(llm?.attributes['mlflow.spanOutputs'] ? JSON.stringify(llm.attributes['mlflow.spanOutputs']) : ''),
        /answer streamed/,
      );
      assert.equal(JSON.parse(stream.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 18);

      const tools = traceRootedAt('POST /tools', `tools ${tag}`);
      assert.ok(tools, 'the /tools trace is in MLflow');
      const root = tools.spans.find((span) => span.parentSpanId === null)!;
      const calls = tools.spans.filter((span) => span.parentSpanId === root.spanId && span.attributes['mlflow.spanType'] === 'CHAT_MODEL');
      assert.equal(calls.length, 2);
      assert.equal(JSON.parse(tools.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 36);
    });

    it('traces the Responses API and embeddings under the request', () => {
      for (const [name, question, type] of [
        ...(responsesApi ? ([['POST /responses', `responses ${tag}`, 'CHAT_MODEL']] as const) : []),
        ['POST /embed', `embed ${tag}`, 'EMBEDDING'],
      ] as const) {
        const called = traceRootedAt(name, question);
        assert.ok(called, `the ${name} trace is in MLflow`);
        const root = called.spans.find((span) => span.parentSpanId === null)!;
        assert.deepEqual(
          called.spans.filter((span) => span.parentSpanId === root.spanId).map((span) => span.attributes['mlflow.spanType']),
          [type],
        );
      }
    });

    it('traces Anthropic messages, plain and streamed, under the request', () => {
      for (const [name, question] of [
        ['POST /claude', `claude ${tag}`],
        ['POST /claude-stream', `claude stream ${tag}`],
      ] as const) {
        const claude = traceRootedAt(name, question);
        assert.ok(claude, `the ${name} trace is in MLflow`);
        const root = claude.spans.find((span) => span.parentSpanId === null)!;
        const llm = claude.spans.find((span) => span.parentSpanId === root.spanId)!;
        assert.equal(llm.attributes['mlflow.spanType'], 'CHAT_MODEL');
        assert.equal(llm.attributes['gen_ai.provider.name'], 'anthropic');
        assert.equal(JSON.parse(claude.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 20);
      }
    });
  });
}

/** A package with a CommonJS and an ES module build of each of its `exports`, each of which tells on stderr that it was loaded. */
async function installUnused(modules: string, name: string, exports: Record<string, string>): Promise<void> {
  const dir = join(modules, name);
  const conditions = Object.fromEntries(
    Object.entries(exports).map(([path, file]) => [path, { import: `${file}.mjs`, require: `${file}.cjs` }]),
  );
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, exports: conditions }));
  for (const file of Object.values(exports)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    const tell = `process.stderr.write(${JSON.stringify(`${name} was loaded\n`)});`;
    await Promise.all([writeFile(join(dir, `${file}.mjs`), tell), writeFile(join(dir, `${file}.cjs`), tell)]);
  }
}

describe('otel-mlflow run: a program with its own node_modules', () => {
  let dir: string;
  before(async () => {
    dir = join(root, 'own-modules');
    const modules = join(dir, 'node_modules');
    await copyApps(dir, ['esm-app.mjs', 'cjs-app.cjs', 'routes.cjs']);
    // The program's own @opentelemetry/api, first: the SDKs depend on it, and would have the repository's linked.
    await installCopy(modules, '@opentelemetry/api');
    await installCopy(modules, 'openai');
    await installCopy(modules, '@anthropic-ai/sdk');
    // Installed, never imported by the apps: each says so on stderr if anything loads it.
    await installUnused(modules, 'ai', { '.': './index' });
    await installUnused(modules, '@langchain/core', { './callbacks/manager': './callbacks/manager' });
  });

  // Node 20 has no in-thread module hooks: there every package installed is instrumented before the program starts.
  for (const [format, app, node, loadsOnlyWhatItImports] of [
    ['an ES module app on Node 20', 'esm-app.mjs', SYSTEM_NODE, false],
    ['a CommonJS app on the pinned Node', 'cjs-app.cjs', process.execPath, true],
  ] as const) {
    const loads = loadsOnlyWhatItImports ? ', loading none of the installed SDKs it does not import' : '';
    it(`traces ${format} through its own openai, @anthropic-ai/sdk and @opentelemetry/api${loads}`, async () => {
      const running = await runApp(node, app, {}, [], dir);
      const tag = `own ${app}`;
      await post(`${running.url}/chat`, { question: `plain ${tag}` });
      await post(`${running.url}/stream`, { question: `stream ${tag}` });
      await post(`${running.url}/claude-stream`, { question: `claude stream ${tag}` });
      const stopped = await running.stop();
      assert.match(stopped.stderr, /traces: 3 delivered/);
      if (loadsOnlyWhatItImports) assert.doesNotMatch(stopped.stderr, /was loaded/);
      assert.deepEqual(namesUnderRoot(traceRootedAt('POST /chat', `plain ${tag}`)!), ['chat gpt-4o-mini', 'load-history']);
      const stream = traceRootedAt('POST /stream', `stream ${tag}`)!;
      const llm = stream.spans.find((span) => span.attributes['mlflow.spanType'] === 'CHAT_MODEL')!;
      assert.match(JSON.stringify(llm.attributes['mlflow.spanOutputs']), /answer streamed/);
      assert.equal(JSON.parse(stream.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 18);
      const claude = traceRootedAt('POST /claude-stream', `claude stream ${tag}`)!;
      const message = claude.spans.find((span) => span.attributes['mlflow.spanType'] === 'CHAT_MODEL')!;
      assert.match(JSON.stringify(message.attributes['mlflow.spanOutputs']), /fake Claude/);
      assert.equal(JSON.parse(claude.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 20);
    });
  }
});

/**
 * A program that registers anything through its own, older @opentelemetry/api before the tool's
 * preload runs (`node --require ./instrumentation.js`, as OpenTelemetry JS documents) would own the
 * API's process-wide slot, which the tool's newer API does not read: `run` claims it first.
 */
describe('otel-mlflow run: a program whose own set-up registers through an older @opentelemetry/api first', () => {
  let dir: string;
  before(async () => {
    dir = join(root, 'older-api');
    await copyApps(dir, ['cjs-app.cjs', 'routes.cjs', 'older-api-diag.cjs']);
    const modules = join(dir, 'node_modules');
    await installCopy(modules, 'otel-api-1-9', '@opentelemetry/api');
    await installCopy(modules, 'openai');
    await installCopy(modules, '@anthropic-ai/sdk');
  });

  it('still nests the LLM calls and the program’s own span under each request', async () => {
    const running = await runApp([process.execPath, '--require', join(dir, 'older-api-diag.cjs')], 'cjs-app.cjs', {}, [], dir);
    await post(`${running.url}/chat`, { question: 'plain older api' });
    await post(`${running.url}/claude`, { question: 'claude older api' });
    const stopped = await running.stop();
    assert.match(stopped.stderr, /traces: 2 delivered/);
    assert.deepEqual(namesUnderRoot(traceRootedAt('POST /chat', 'plain older api')!), ['chat gpt-4o-mini', 'load-history']);
    const claude = traceRootedAt('POST /claude', 'claude older api')!;
    assert.equal(claude.spans.length, 2, 'the request and its Claude call, in one trace');
  });
});

/**
 * A program whose own OpenTelemetry set-up instruments node:http after the preload: its server span is
 * active when the preload's patch sees the request. An ES module program's in `--import`, which runs
 * after the preload; a CommonJS program's in `--require`, which registers its own provider first.
 */
describe('otel-mlflow run: a program with an HTTP instrumentation of its own', () => {
  for (const [program, flag, setUp, app] of [
    ['an ES module program, its set-up in --import', '--import', 'own-otel-setup.mjs', 'esm-app.mjs'],
    ['a CommonJS program, its set-up in --require', '--require', 'own-otel-setup.cjs', 'cjs-app.cjs'],
  ] as const) {
    it(`makes one trace of each request of ${program}, rooted at the instrumentation’s span with the request’s name, type and bodies`, async () => {
      const running = await runApp([process.execPath, flag, join(APPS, setUp)], app);
      await post(`${running.url}/chat`, { question: `plain ${setUp}` });
      await post(`${running.url}/claude`, { question: `claude ${setUp}` });
      const stopped = await running.stop();
      assert.match(stopped.stderr, /traces: 2 delivered/);
      const chat = traceRootedAt('POST /chat', `plain ${setUp}`)!;
      assert.deepEqual(namesUnderRoot(chat), ['chat gpt-4o-mini', 'load-history']);
      const root = chat.spans.find((span) => span.parentSpanId === null)!;
      // Set by the program's instrumentation only: its span, not one of the preload's beside it.
      assert.equal(root.attributes['network.protocol.version'], '1.1');
      assert.equal(root.attributes['mlflow.spanType'], 'CHAIN');
      assert.match(chat.info.response_preview ?? '', /answer/);
      const claude = traceRootedAt('POST /claude', `claude ${setUp}`)!;
      assert.equal(claude.spans.length, 2, 'the request and its Claude call, in one trace');
    });
  }
});

describe('otel-mlflow run: the program’s lifecycle', () => {
  it('passes SIGINT on', async () => {
    const running = await runApp(process.execPath, 'esm-app.mjs', { EXIT_CODE_ON_SIGINT: '5' });
    const stopped = await running.stop('SIGINT');
    assert.equal(stopped.code, 5);
    assert.match(stopped.stdout, /SIGINT received/);
    assert.match(stopped.stderr, /traces: 0 delivered/);
  });

  it('passes a terminal’s Ctrl-C on once: the program is not in the terminal’s group, so only the tool’s copy reaches it', async () => {
    const running = await runApp(process.execPath, 'esm-app.mjs', { EXIT_CODE_ON_SIGINT: '5', SHUTDOWN_MS: '500' }, [], APPS, {
      terminal: true,
    });
    const stopped = await running.stop('SIGINT');
    assert.equal(stopped.code, 5);
    assert.equal(stopped.stdout.match(/SIGINT received/g)?.length, 1, stopped.stdout);
  });

  const [driver] = availableDrivers();
  it('at a terminal, under the launcher of an old Node: Ctrl-C reaches the program once, and its output and exit code come back', {
    skip: driver ? false : 'neither tmux nor python3 (pty) is installed',
  }, async () => {
    const home = await mkdtemp(join(root, 'terminal-'));
    const terminal = await startTerminal(driver!, {
      argv: [...oldNode().argv, BIN, 'run', '--', process.execPath, join(APPS, 'esm-app.mjs')],
      cwd: home,
      env: {
        PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        HOME: home,
        TERM: 'xterm-256color',
        NO_COLOR: '1',
        SHUTDOWN_MS: '500',
        EXIT_CODE_ON_SIGINT: '5',
      },
    });
    try {
      await terminal.waitFor('a line on stderr');
      await terminal.press('CtrlC');
      const screen = await terminal.waitFor('[exited with status');
      assert.equal(screen.match(/SIGINT received/g)?.length, 1, screen);
      assert.match(screen, /traces: 0 kept in the local store/);
      assert.match(screen, /\[exited with status 5\]/);
    } finally {
      await terminal.close();
    }
  });

  it('stops the program when npx, which started run, is killed and passes nothing on', { timeout: 120_000 }, async () => {
    // npm's shell, which dies on SIGTERM without passing it on: it runs the command given after it.
    const npmShell = [
      process.execPath,
      '-e',
      "require('node:child_process').spawn(process.execPath, process.argv.slice(1), { stdio: 'inherit' })",
    ];
    const running = await runApp(process.execPath, 'esm-app.mjs', { npm_command: 'exec', EXIT_CODE_ON_SIGTERM: '0' }, [], APPS, {
      node: npmShell,
    });
    await post(`${running.url}/chat`, { question: 'before npx went away' });
    const stopped = await running.stop('SIGKILL');
    assert.equal(stopped.forced, false, 'run and its program went on running without the process that started them');
    assert.match(stopped.stderr, /^the process that started otel-mlflow \(pid \d+\) went away: stopping the program$/m);
    assert.match(stopped.stdout, /esm-app: SIGTERM received/);
    assert.match(stopped.stderr, /traces: 1 delivered/);
  });

  it('suspends the program with a terminal’s Ctrl-Z, and resumes it with the shell’s `fg`', async () => {
    const running = await runApp(process.execPath, 'esm-app.mjs', {}, [], APPS, { terminal: true });
    const program = programPid(running);
    const state = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    process.kill(-running.pid, 'SIGTSTP');
    // A shell resumes a job once it has seen it stop: run itself, after the program.
    await until(() => state(program) === 'T' && state(running.pid) === 'T', 'the program and run are stopped');
    process.kill(-running.pid, 'SIGCONT');
    await until(() => state(program) !== 'T', 'the program runs again');
    assert.match(await post(`${running.url}/chat`, { question: 'after fg' }), /answer plain/);
    const stopped = await running.stop('SIGINT');
    assert.equal(stopped.code, 0);
    assert.match(stopped.stderr, /traces: 1 delivered/);
  });

  it('stops a program `npm start` runs, whose npm would end alone, and names its traces after the package', {
    timeout: 120_000,
  }, async () => {
    const project = await npmProject('npm-project');
    // A service.name mapped to an experiment: the trace lands there only if it carries the package's name.
    const running = await runCommand(['npm', 'start'], { OTEL_MLFLOW_RELAY_EXPERIMENTS: 'checkout-api=checkout-traces' }, [], {
      cwd: project,
    });
    await post(`${running.url}/chat`, { question: 'run by npm start' });
    const stopped = await running.stop('SIGTERM');
    assert.match(stopped.stdout, /esm-app: SIGTERM received/, 'the app got the supervisor’s SIGTERM');
    assert.equal(stopped.code, 143, 'npm ended by SIGTERM, as a shell reports it');
    assert.match(stopped.stderr, /traces: 1 delivered/);
    const experimentId = mlflow.store.experimentByName('checkout-traces')?.experimentId;
    assert.ok(experimentId, 'the experiment the package’s name maps to was made');
    assert.equal(traceRootedAt('POST /chat', 'run by npm start')?.info.trace_location.mlflow_experiment.experiment_id, experimentId);
  });

  it('stops promptly as PID 1 of a container (`docker run` without --init), where the app `npm start` ran is left a zombie', {
    skip: pidNamespaces() ? false : 'making a PID namespace (`unshare --pid`, as root on Linux) is not allowed here',
    timeout: 120_000,
  }, async () => {
    const project = await npmProject('npm-project-pid-1');
    // As PID 1, run is handed every orphan, and Node reaps only its own children: the app, orphaned
    // when npm ended, stays a zombie once it exits. Waited for, it would hold run for the whole deadline.
    const running = await runCommand(['npm', 'start'], {}, ['--deliver-timeout', '600'], {
      cwd: project,
      node: ['unshare', '--pid', '--fork', '--mount-proc', process.execPath],
    });
    await post(`${running.url}/chat`, { question: 'run as PID 1' });
    const [run] = childrenOf(running.pid);
    assert.ok(run, 'run, the first process of its PID namespace');
    process.kill(run, 'SIGTERM');
    // Sent only to wait for the end: unshare passes no signal on, and SIGCONT does nothing to it.
    const stopped = await running.stop('SIGCONT');
    assert.equal(stopped.forced, false, 'run waited for a process that had ended');
    assert.match(stopped.stdout, /esm-app: SIGTERM received/);
    assert.equal(stopped.code, 143, stopped.stderr);
    assert.match(stopped.stderr, /traces: 1 delivered/);
    assert.ok(traceRootedAt('POST /chat', 'run as PID 1'));
  });

  it('has the traces on disk before it exits, a program calling process.exit() at once included', async () => {
    const store = join(root, 'exiting');
    const running = await runApp(SYSTEM_NODE, 'cjs-app.cjs', { MLFLOW_TRACKING_URI: '', OTEL_MLFLOW_STORE_DIR: store });
    await post(`${running.url}/chat`, { question: 'before exit' });
    await post(`${running.url}/exit`, { code: 3 });
    const stopped = await running.stop();
    assert.equal(stopped.code, 3);
    assert.match(stopped.stderr, /traces: \d+ kept in the local store/);
    const { stdout } = await execute(process.execPath, [BIN, 'traces', 'list', '--json'], {
      env: { PATH: process.env.PATH, HOME: root, OTEL_MLFLOW_STORE_DIR: store },
    });
    const listed = (JSON.parse(stdout) as { rootName: string; requestPreview: string }[]).map((trace) => [
      trace.rootName,
      trace.requestPreview,
    ]);
    assert.deepEqual(listed.sort(), [
      ['POST /chat', '{"question":"before exit"}'],
      ['POST /exit', '{"code":3}'],
    ]);
  });

  it('says so when the program exits with spans that no disk would take', async () => {
    // A disk with no room, for the program alone: at a file size limit of 0 every byte written fails
    // (EFBIG; SIGXFSZ ignored, as a full disk sends no signal) while names are still made, as on a full disk.
    const noRoom = ['bash', '-c', 'ulimit -f 0; exec "$0" "$@"', SYSTEM_NODE];
    const running = await runApp(noRoom, 'cjs-app.cjs', {
      MLFLOW_TRACKING_URI: '',
      NODE_OPTIONS: "--import=data:text/javascript,process.on('SIGXFSZ',()=>{})",
    });
    await post(`${running.url}/exit`, { code: 3 });
    const stopped = await running.stop();
    assert.equal(stopped.code, 3);
    assert.match(stopped.stderr, /^1 batch of spans that could be kept nowhere \(no spool directory had room\) was lost$/m);
  });

  it('keeps the traces of a Hono app that Ctrl-C ends at once, and exits as the signal ended it', async () => {
    const running = await runApp(SYSTEM_NODE, 'hono-app.mjs');
    assert.match(await post(`${running.url}/chat/s1`, { question: 'hono right before Ctrl-C' }), /answer plain/);
    const stopped = await running.stop('SIGINT');
    assert.equal(stopped.code, 130);
    assert.match(stopped.stderr, /traces: 1 delivered/);
    const trace = traceRootedAt('POST /chat/:session', 'hono right before Ctrl-C');
    assert.ok(trace, 'the trace is in MLflow');
    assert.deepEqual(trace.spans.map((span) => span.attributes['mlflow.spanType']).sort(), ['CHAIN', 'CHAT_MODEL']);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`ends on ${signal} a program whose clean-up goes through signal-exit, which re-raises the signal once no one else listens`, async () => {
      const running = await runApp(SYSTEM_NODE, 'signal-exit-app.mjs');
      assert.match(await post(`${running.url}/chat`, { question: `signal-exit before ${signal}` }), /answer plain/);
      const stopped = await running.stop(signal);
      assert.equal(stopped.forced, false, `the program did not end on ${signal}`);
      assert.equal(stopped.code, exitCodeOf({ code: null, signal }), stopped.stderr);
      assert.match(stopped.stdout, new RegExp(`^signal-exit-app: cleaned up on ${signal}$`, 'm'));
      assert.match(stopped.stderr, /^traces: 1 delivered$/m);
      assert.ok(traceRootedAt('POST /chat', `signal-exit before ${signal}`), 'its trace is in MLflow');
    });
  }

  // systemd's default stop (KillMode=control-group) signals every process of the service at once, and
  // pm2's tree kill every process it started: the program hears the supervisor's copy and run's.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`passes a supervisor’s ${signal} on once when the supervisor signals the program too: it cleans up, uncut by a second one`, async () => {
      // Cleaning up takes it a moment, as a service finishing its requests: the copy arrives meanwhile.
      const running = await runApp(SYSTEM_NODE, 'esm-app.mjs', { SHUTDOWN_MS: '500' });
      assert.match(await post(`${running.url}/chat`, { question: `stopped by a supervisor’s ${signal}` }), /answer plain/);
      const program = programPid(running);
      process.kill(program, signal);
      const stopped = await running.stop(signal);
      assert.equal(stopped.stdout.match(new RegExp(`esm-app: ${signal}`, 'g'))?.length, 1, stopped.stdout);
      assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
      assert.match(stopped.stderr, /^traces: 1 delivered$/m);
    });
  }

  it('loses none of the traces a program had answered and handed over before it was SIGKILLed', async () => {
    const running = await runApp(SYSTEM_NODE, 'esm-app.mjs');
    const answered = 5;
    for (let i = 0; i < answered; i++) await post(`${running.url}/chat`, { question: `killed ${i}` });
    // The program is alive and idle: its spans leave on their own, with nothing ending it (how soon:
    // test/preload/prompt-span-processor.test.ts). Waited for, not timed, so a loaded machine only slows it.
    await until(
      () => Array.from({ length: answered }, (_, i) => traceRootedAt('POST /chat', `killed ${i}`)).every(Boolean),
      'the traces in MLflow while the program runs',
    );
    const pid = programPid(running);
    process.kill(pid, 'SIGKILL');
    const stopped = await running.stop('SIGCONT');
    assert.equal(stopped.code, 137);
    assert.match(stopped.stderr, new RegExp(`traces: ${answered} delivered`));
    for (let i = 0; i < answered; i++) assert.ok(traceRootedAt('POST /chat', `killed ${i}`), `killed ${i} is in MLflow`);
  });

  /**
   * Runs the app in `store` and SIGKILLs run after one request, with two more in flight at the fake
   * OpenAI: the program is stopped as on SIGTERM, finishes them, and leaves their spans in the spool as
   * it exits. The questions asked.
   */
  async function leaveSpooledBatches(store: string, tag = ''): Promise<string[]> {
    const questions = ['before run was killed', 'in flight when run was killed 1', 'in flight when run was killed 2'].map(
      (question) => question + tag,
    );
    const first = await runApp(process.execPath, 'esm-app.mjs', { OTEL_MLFLOW_STORE_DIR: store });
    await post(`${first.url}/chat`, { question: questions[0] });
    const { answered } = await killRunMidway(first, questions.slice(1));
    for (const answer of answered) assert.match(answer, /answer plain/);
    const orphan = await first.stop();
    assert.match(orphan.stdout, /esm-app: SIGTERM received/);
    assert.equal(traceRootedAt('POST /chat', questions[1]!), undefined, 'nothing could deliver it yet');
    return questions;
  }

  /**
   * SIGKILLs run while the program answers `questions` (their LLM calls held at the fake OpenAI), then
   * lets the calls go once the program was told to stop. What the program answered.
   */
  async function killRunMidway(running: ServeProcess, questions: string[]): Promise<{ program: number; answered: string[] }> {
    const program = programPid(running);
    const calls = openai.requests.length;
    let letGo = () => {};
    held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    try {
      const answers = questions.map((question) => post(`${running.url}/chat`, { question }));
      await until(() => openai.requests.length === calls + questions.length, 'the calls at the fake OpenAI');
      process.kill(running.pid, 'SIGKILL');
      await until(() => /esm-app: SIGTERM received/.test(running.output()), 'the program told to stop once run was killed');
      letGo();
      return { program, answered: await Promise.all(answers) };
    } catch (error) {
      // Not left running by a failing test, holding its output open.
      if (alive(program)) process.kill(program, 'SIGKILL');
      throw error;
    } finally {
      letGo();
      held = undefined;
    }
  }

  function landedWhole(questions: readonly string[]): void {
    for (const question of questions) {
      const trace = traceRootedAt('POST /chat', question);
      assert.ok(trace, `"${question}" is in MLflow`);
      assert.deepEqual(trace.spans.map((span) => span.name).sort(), ['POST /chat', 'chat gpt-4o-mini', 'load-history'], 'whole');
    }
  }

  it('stops the program as on SIGTERM when run itself is SIGKILLed, and kills what still runs once the rest’s time is up', async () => {
    const running = await runApp(process.execPath, 'esm-app.mjs');
    const { program } = await killRunMidway(running, ['in flight when run was killed']);
    await until(() => !alive(program), 'the program ended');
    const stopped = await running.stop();
    assert.equal(stopped.signal, 'SIGKILL');
    assert.equal(stopped.stdout.match(/esm-app: SIGTERM received/g)?.length, 1, stopped.stdout);

    // A program deaf to SIGTERM is killed once the time a stopping program's rest gets (--deliver-timeout) is up.
    const deaf = await runCommand(
      [
        process.execPath,
        '-e',
        "process.on('SIGTERM', () => console.log('deaf to SIGTERM')); setInterval(() => {}, 1000); console.log('deaf (pid ' + process.pid + ') listening on http://127.0.0.1:9')",
      ],
      {},
      ['--deliver-timeout', '1'],
    );
    const deafPid = programPid(deaf);
    process.kill(deaf.pid, 'SIGKILL');
    try {
      await until(() => !alive(deafPid), 'the program killed');
    } finally {
      if (alive(deafPid)) process.kill(deafPid, 'SIGKILL');
    }
    assert.match((await deaf.stop()).stdout, /deaf to SIGTERM/);
  });

  it('keeps what a program answers as run itself is SIGKILLed, and the next run with the same settings takes it in', async () => {
    const store = join(root, 'store-of-a-killed-run');
    const questions = await leaveSpooledBatches(store);
    const listed = await execute(process.execPath, [BIN, 'traces', 'list'], {
      env: { PATH: process.env.PATH, HOME: root, TMPDIR: root, OTEL_MLFLOW_STORE_DIR: store },
    });
    assert.match(
      listed.stdout,
      /\n\d+ batch(es)? of spans left by runs that were stopped wait in \S+spool: the next `otel-mlflow run`, `relay` or `traces push` with the same settings takes them in\n$/,
    );

    // A run with another destination leaves them where they are: it would send them to its experiment.
    const elsewhere = await runApp(process.execPath, 'esm-app.mjs', {
      OTEL_MLFLOW_STORE_DIR: store,
      MLFLOW_EXPERIMENT_NAME: 'another-app',
    });
    const ended = await elsewhere.stop();
    assert.match(
      ended.stderr,
      /\n\d+ batch(es)? of spans left by runs with other settings \(another destination\) wait in \S+: the next run with those settings takes them in\n$/,
    );
    assert.equal(traceRootedAt('POST /chat', 'after run was killed 1'), undefined, 'not sent to its experiment');

    const next = await runApp(process.execPath, 'esm-app.mjs', { OTEL_MLFLOW_STORE_DIR: store });
    const stopped = await next.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(
      stopped.stderr,
      /\ntraces: [23] delivered\n(1 batch of spans left by runs stopped before their end was|\d+ batches of spans left by runs stopped before their end were) taken in\n$/,
    );
    landedWhole(questions);
    assert.deepEqual(await readdir(join(store, 'spool')), [], 'the killed run’s directory is gone once sent on');
  });

  it('has `traces push` take in and send what a run that was SIGKILLed left in the spool', async () => {
    const store = join(root, 'store-pushed-after-a-killed-run');
    const questions = await leaveSpooledBatches(store, ', then pushed');
    const env = {
      PATH: process.env.PATH,
      HOME: root,
      TMPDIR: root,
      OTEL_MLFLOW_STORE_DIR: store,
      MLFLOW_TRACKING_URI: mlflow.url,
      MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
    };
    const doctor = await execute(process.execPath, [BIN, 'doctor', '--json', '--create-experiment'], { env });
    const report = JSON.parse(doctor.stdout) as { checks: { id: string; detail: string }[]; backlog: Record<string, number | null> };
    const send = report.checks.find((c) => c.id === 'send');
    assert.match(
      send?.detail ?? '',
      /; (1 batch of spans left by stopped runs waits|\d+ batches of spans left by stopped runs wait) in the spool \(`otel-mlflow traces push` takes (it|them) in\)$/,
      'doctor tells of them',
    );
    assert.ok((report.backlog.spooled ?? 0) > 0, JSON.stringify(report.backlog));
    assert.equal(report.backlog.spooledWithOtherSettings, 0);
    const pushed = await execute(process.execPath, [BIN, 'traces', 'push'], { env });
    assert.match(
      pushed.stdout,
      /^(1 batch of spans left by runs stopped before their end was|\d+ batches of spans left by runs stopped before their end were) taken in\n/,
    );
    assert.match(pushed.stdout, /^\d+ sent, 0 still pending, 0 refused\./m);
    landedWhole(questions);
    assert.deepEqual(await readdir(join(store, 'spool')), [], 'the spool is empty once taken in');
  });

  it('has a relay with the same settings take in what a run that was SIGKILLed left in the spool', async () => {
    const store = join(root, 'store-relayed-after-a-killed-run');
    const questions = await leaveSpooledBatches(store, ', then relayed');
    const relay = await startRelayProcess([], {
      MLFLOW_TRACKING_URI: mlflow.url,
      MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
      OTEL_MLFLOW_STORE_DIR: store,
      TMPDIR: root,
    });
    // Taken in while it runs, not only when it stops.
    await until(() => questions.every((question) => traceRootedAt('POST /chat', question)), 'every trace is in MLflow');
    const stopped = await relay.stop();
    assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
    assert.match(
      stopped.stdout,
      /^(1 batch of spans left by runs stopped before their end was|\d+ batches of spans left by runs stopped before their end were) taken in$/m,
    );
    landedWhole(questions);
  });

  it('loses nothing the program answered while its store was full: the spool keeps it, and a later run sends it on', async () => {
    const proxy = await startFaultyProxy(mlflow.url);
    try {
      await proxy.down();
      // MLflow is down, so traces stay pending; a store capped at 1 MB is full of them after a few hundred.
      const env = { MLFLOW_TRACKING_URI: proxy.url, OTEL_MLFLOW_STORE_DIR: join(root, 'store-that-fills'), OTEL_MLFLOW_STORE_MAX_MB: '1' };
      const first = await runApp(process.execPath, 'esm-app.mjs', env);
      const questions = Array.from({ length: 600 }, (_, i) => `while the store was full ${i}`);
      for (const question of questions) await post(`${first.url}/chat`, { question });
      const full = await first.stop();
      assert.equal(full.code, 0, full.stderr);
      assert.match(full.stderr, /\nthe store could not take all the program's spans \(.*full.*\): the program kept them in the spool\n/);
      assert.match(
        full.stderr,
        /\n\d+ batch(es)? of spans the store did not take (is|are) kept in \S+: the next `otel-mlflow run`, `relay` or `traces push` with these settings takes (it|them) in\n$/,
      );

      await proxy.up();
      const next = await runApp(process.execPath, 'esm-app.mjs', env);
      const sent = await next.stop();
      assert.match(
        sent.stderr,
        /\ntraces: \d+ delivered\n\d+ batch(es)? of spans left by runs stopped before their end (was|were) taken in\n$/,
      );
      const missing = questions.filter((question) => !traceRootedAt('POST /chat', question));
      assert.deepEqual(missing, [], 'every answered request’s trace is in MLflow');
    } finally {
      await proxy.close();
    }
  });

  for (const { how, command, env } of [
    {
      how: 'that switched require() of ES modules off, its SDKs instrumented right after it resolves them',
      command: process.execPath,
      env: { NODE_OPTIONS: '--no-experimental-require-module' },
    },
    { how: 'run through tsx, whose module hooks stand beside the tool’s', command: [process.execPath, TSX_CLI], env: {} },
  ]) {
    it(`traces a program ${how}`, async () => {
      const running = await runApp(command, 'esm-app.mjs', env);
      assert.match(await post(`${running.url}/chat`, { question: `plain, ${how}` }), /answer plain/);
      await post(`${running.url}/claude`, { question: `to Claude, ${how}` });
      const stopped = await running.stop();
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stderr, /traces: 2 delivered/);
      for (const [path, question] of [
        ['/chat', `plain, ${how}`],
        ['/claude', `to Claude, ${how}`],
      ] as const) {
        const trace = traceRootedAt(`POST ${path}`, question);
        assert.ok(trace, `the trace of ${path} is in MLflow`);
        assert.ok(
          trace.spans.some((span) => span.attributes['mlflow.spanType'] === 'CHAT_MODEL'),
          `${path}'s LLM call is traced`,
        );
      }
    });
  }

  it('records no request, response or message content with --no-capture-content', async () => {
    const running = await runApp(process.execPath, 'esm-app.mjs', {}, ['--no-capture-content']);
    await post(`${running.url}/chat`, { question: 'a secret question' });
    const stopped = await running.stop();
    assert.match(stopped.stderr, /traces: 1 delivered/);
    const chat = mlflow.store
      .traces()
      .find((trace) => trace.spans.some((span) => span.name === 'POST /chat' && span.attributes['mlflow.spanInputs'] === undefined));
    assert.ok(chat, 'the trace is in MLflow');
    assert.ok(
      chat.spans.every((span) => span.attributes['mlflow.spanInputs'] === undefined && span.attributes['mlflow.spanOutputs'] === undefined),
    );
    assert.doesNotMatch(JSON.stringify(chat.spans.map((span) => span.attributes)), /secret question/);
    assert.equal(JSON.parse(chat.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 18);
  });

  it('masks in the program’s spans the credentials its environment holds that the tool has no setting for', async () => {
    const [key, password] = ['gsk-QQ8-groq-key-0123456789', 'QQ9-db-password-0123456789'];
    const { stdout } = await execute(process.execPath, [BIN, 'run', '--', process.execPath, join(APPS, 'keys-app.mjs')], {
      env: {
        PATH: process.env.PATH,
        HOME: root,
        MLFLOW_TRACKING_URI: mlflow.url,
        MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
        OTEL_MLFLOW_STORE_DIR: join(root, 'keys-app'),
        FAKE_OPENAI_URL: openai.url,
        GROQ_API_KEY: key,
        DATABASE_URL: `postgres://app:${password}@db.internal:5432/app`,
      },
    });
    assert.match(stdout, /keys-app: the provider answered 401/);
    const trace = mlflow.store.traces().find((candidate) => candidate.spans.some((span) => span.name === 'answer'));
    assert.ok(trace, 'the trace is in MLflow');
    const text = JSON.stringify(trace.spans, (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value));
    assert.match(text, /Incorrect API key provided: \*+6789/, 'the refusal is there, the key masked');
    assert.match(text, /postgres:\/\/app:\*+6789@db\.internal/, 'the error is there, the password masked');
    assert.doesNotMatch(text, /QQ8-groq|QQ9-db-password/);
  });

  it('links the program’s traces to the MLflow run given with --run-id', async () => {
    const experimentId = mlflow.store.experimentByName(EXPERIMENT)?.experimentId ?? mlflow.createExperiment(EXPERIMENT);
    const runId = mlflow.createRun(experimentId, 'with-run');
    const running = await runApp(process.execPath, 'esm-app.mjs', {}, ['--run-id', runId]);
    await post(`${running.url}/chat`, { question: 'linked to a run' });
    const stopped = await running.stop();
    assert.match(stopped.stderr, /traces: 1 delivered/);
    const trace = traceRootedAt('POST /chat', 'linked to a run');
    assert.ok(trace, 'the trace is in MLflow');
    assert.deepEqual(mlflow.store.tracesOfRun(runId), [trace.info.trace_id]);
  });

  it('relays a Python program’s stock OpenTelemetry exporter as the relay does', async (t) => {
    const python = await execute('python3', [
      '-c',
      'import opentelemetry.exporter.otlp.proto.http.trace_exporter, opentelemetry.sdk',
    ]).catch(() => undefined);
    if (!python) {
      t.skip('python3 with opentelemetry-sdk and opentelemetry-exporter-otlp-proto-http is not installed here');
      return;
    }
    const { stderr } = await execute(process.execPath, [BIN, 'run', '--', 'python3', join(APPS, 'python-app.py')], {
      env: {
        PATH: process.env.PATH,
        HOME: root,
        MLFLOW_TRACKING_URI: mlflow.url,
        MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
        OTEL_MLFLOW_STORE_DIR: join(root, 'python'),
      },
    });
    assert.match(stderr, /traces: 1 delivered/);
    const trace = mlflow.store.traces().find((each) => each.spans.some((span) => span.name === 'python-request'));
    assert.ok(trace, 'the Python trace is in MLflow');
    assert.equal(trace.spans.length, 2);
  });

  it('takes a program’s own OTLP/gRPC exporter on the same endpoint, as Go’s and Rust’s choose gRPC in code', async () => {
    const { stdout, stderr } = await runOwnSetUp('grpc-app.mjs', {
      MLFLOW_TRACKING_URI: mlflow.url,
      // As a Python user's environment says it for the distro: the programs' protocol, not the tool's.
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    });
    assert.equal(stdout, 'exported\n');
    assert.match(stderr, /traces: 1 delivered/);
    const trace = mlflow.store.traces().find((each) => each.spans.some((span) => span.name === 'grpc-request'));
    assert.ok(trace, 'the gRPC trace is in MLflow');
    const request = trace.spans.find((span) => span.name === 'grpc-request');
    const llm = trace.spans.find((span) => span.name === 'chat gpt-4o-mini');
    assert.ok(request && llm, 'both spans are in the trace');
    assert.equal(request.parentSpanId, null);
    assert.equal(llm.parentSpanId, request.spanId);
    assert.equal(llm.attributes['mlflow.spanType'], 'CHAT_MODEL');
    assert.equal(JSON.parse(trace.info.trace_metadata?.['mlflow.trace.tokenUsage'] ?? 'null')?.total_tokens, 18);
  });

  it('takes the traces of a program exporting all three signals; its metrics and logs still reach its collector', async () => {
    // A collector that takes every export and notes what came.
    const exports: string[] = [];
    const collector = await listen((req, res) => {
      req.resume();
      req.once('end', () => {
        exports.push(`${req.url} ${req.headers.authorization}`);
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/x-protobuf' }).end();
      });
    });
    try {
      const { stdout, stderr } = await runOwnSetUp(
        'signals-app.mjs',
        { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer collector-token' },
        ['--tracking-uri', mlflow.url],
      );
      assert.equal(stdout, 'exported\n');
      assert.match(stderr, /traces: 1 delivered/);
      assert.ok(mlflow.store.traces().some((trace) => trace.spans.some((span) => span.name === 'signals-request')));
      assert.deepEqual(
        exports.sort(),
        ['/v1/logs Bearer collector-token', '/v1/metrics Bearer collector-token'],
        'the collector got the metrics and logs, with its credentials, and no traces',
      );
    } finally {
      await collector.close();
    }
  });

  it('only runs the program when OTEL_SDK_DISABLED is true', async () => {
    const { stdout, stderr } = await execute(
      process.execPath,
      [BIN, 'run', '--', SYSTEM_NODE, '-e', 'console.log(process.env.NODE_OPTIONS ?? "-", process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? "-")'],
      { env: { PATH: process.env.PATH, HOME: root, OTEL_SDK_DISABLED: 'true' } },
    );
    assert.equal(stdout, '- -\n');
    assert.match(stderr, /^traces: none \(OpenTelemetry is disabled by OTEL_SDK_DISABLED\)\n$/);
  });

  it('leaves the traces pending when MLflow cannot be reached, and says why', async () => {
    const running = await runApp(process.execPath, 'esm-app.mjs', { MLFLOW_TRACKING_URI: await closedPortUrl() }, [
      '--deliver-timeout',
      '5',
    ]);
    await post(`${running.url}/chat`, { question: 'while MLflow is down' });
    const stopped = await running.stop();
    assert.equal(stopped.code, 0);
    assert.match(
      stopped.stderr,
      /^traces: 0 delivered, 1 pending in \S+ \(MLflow at http:\/\/127\.0\.0\.1:\d+, experiment 'my-app': Nothing is listening at .+\); they are sent by the next/m,
    );
  });

  it('stops delivering when asked to after the program ended: the rest waits on disk, the line says why, and the program’s exit code comes back', async () => {
    const proxy = await startFaultyProxy(mlflow.url);
    try {
      // MLflow takes the traces' request and never answers; a deadline of minutes would keep run waiting.
      proxy.mode = { kind: 'hang', path: '/v1/traces' };
      const store = join(root, 'stopped-delivering');
      const env = { MLFLOW_TRACKING_URI: proxy.url, OTEL_MLFLOW_STORE_DIR: store };
      const running = await runApp(process.execPath, 'esm-app.mjs', env, ['--deliver-timeout', '600']);
      const program = programPid(running);
      await post(`${running.url}/chat`, { question: 'delivery stopped' });
      await post(`${running.url}/exit`, { code: 4 });
      // A signal before run saw the program end would be the program's to have; run reaps it, then delivers.
      await until(() => !alive(program), 'the program ended');
      await until(() => proxy.requests.some((request) => request.path.startsWith('/v1/traces')), 'the traces on their way to MLflow');
      const stopped = await running.stop('SIGINT');
      assert.equal(stopped.forced, false, stopped.stderr);
      assert.equal(stopped.code, 4, stopped.stderr);
      assert.match(stopped.stderr, /^traces: 0 delivered, 2 pending in \S+ \(delivery stopped by SIGINT\); they are sent by the next/m);

      proxy.mode = { kind: 'pass' };
      const { stdout } = await execute(process.execPath, [BIN, 'traces', 'push'], {
        env: {
          PATH: process.env.PATH,
          HOME: root,
          OTEL_MLFLOW_STORE_DIR: store,
          MLFLOW_TRACKING_URI: proxy.url,
          MLFLOW_EXPERIMENT_NAME: EXPERIMENT,
        },
      });
      assert.match(stdout, /2 sent/);
      assert.ok(traceRootedAt('POST /chat', 'delivery stopped'), 'the trace left waiting is in MLflow after the push');
    } finally {
      await proxy.close();
    }
  });

  for (const [signal, raised] of [
    ['SIGTERM', 'SIGTERM'],
    ['SIGINT', '2'],
  ] as const) {
    it(`ends as ${signal} ends it a program that raises it at itself with nothing left to run, its trace kept`, async () => {
      const store = join(root, `self-${signal}`);
      const failed = await execute(process.execPath, [BIN, 'run', '--', process.execPath, join(APPS, 'self-signal-app.cjs')], {
        env: { PATH: process.env.PATH, HOME: root, OTEL_MLFLOW_STORE_DIR: store, FAKE_OPENAI_URL: openai.url, SIGNAL: raised },
      }).catch((error: { code: number; stderr: string }) => error);
      assert.equal((failed as { code: number }).code, exitCodeOf({ code: null, signal }), (failed as { stderr: string }).stderr);
      assert.match((failed as { stderr: string }).stderr, /traces: 1 kept in the local store/);
    });
  }

  it('says when the program does not exist, with the shell’s exit code', async () => {
    const failed = await execute(process.execPath, [BIN, 'run', '--', 'no-such-program-here'], {
      env: { PATH: process.env.PATH, HOME: root, OTEL_MLFLOW_STORE_DIR: join(root, 'missing') },
    }).catch((error: { code: number; stderr: string }) => error);
    assert.equal((failed as { code: number }).code, 127);
    assert.match((failed as { stderr: string }).stderr, /cannot run `no-such-program-here`: no such program/);
  });

  it('refuses an empty program name (a variable meant to name it, unset) as a usage error, starting nothing', async () => {
    const failed = await execute(process.execPath, [BIN, 'run', '--', '', 'server.js'], {
      env: { PATH: process.env.PATH, HOME: root, OTEL_MLFLOW_STORE_DIR: join(root, 'empty-name') },
    }).catch((error: { code: number; stderr: string }) => error);
    assert.equal((failed as { code: number }).code, 2);
    assert.match((failed as { stderr: string }).stderr, /^error: the program to run after `--` is an empty word\nhint: .*may be unset/);
    assert.equal(existsSync(join(root, 'empty-name')), false, 'no store was opened');
  });

  it('does not start the program when its store cannot be opened, and says how to run it untraced', async () => {
    const notADirectory = join(root, 'a-file');
    await writeFile(notADirectory, '');
    const failed = await execute(process.execPath, [BIN, 'run', '--', process.execPath, '-e', 'console.log("the program ran")'], {
      env: { PATH: process.env.PATH, HOME: root, OTEL_MLFLOW_STORE_DIR: join(notADirectory, 'store') },
    }).catch((error: { code: number; stdout: string; stderr: string }) => error);
    const { code, stdout, stderr } = failed as { code: number; stdout: string; stderr: string };
    assert.equal(code, 3, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, /cannot open the trace store .*ENOTDIR.*\nthe program was not started\n/);
    assert.match(stderr, /OTEL_SDK_DISABLED=true runs it untraced/);
  });
});
