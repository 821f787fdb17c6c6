import type { ChalkInstance } from 'chalk';
import type { Ora } from 'ora';
import type { AgentAnswer, Endpoint } from '../../agent/client/endpoints.ts';
import { ANSWER_TIMEOUT_MS, postQuestion, type PostOutcome } from '../../agent/client/post-question.ts';
import { linkServerTraces, prepareServerRunLink, type ServerRunLink } from '../../agent/client/server-run-link.ts';
import { fetchServerHealth } from '../../agent/client/server-health.ts';
import { askFailure, serverFailure } from './ask-failures.ts';
import { promptForQuestion, readQuestion } from './read-question.ts';
import { flushAndReport, type TraceExportStatus } from '../../runtime/trace-export-status.ts';
import type { CommandContext } from '../../cli/context.ts';
import { onStopRequestThenNow } from '../../cli/stop-requests.ts';
import { createPainter, writeJson, writeLine, writeNotices } from '../../cli/output.ts';
import { renderError } from '../../cli/render-error.ts';
import { loadConfig } from '../../config/load-config.ts';
import { maskSecrets } from '../../config/configured-secrets.ts';
import type { ResolvedConfig } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { commandLine } from '../../invocation.ts';
import type { AskOutcome } from './ask-in-process.ts';
import type { AskOptions } from './ask-options.ts';

const SERVER_DOWN_HINT = 'start it with `otel-mlflow serve`, or ask without --url';

/** Where the trace went, for the lines after the answer. */
interface TraceReport {
  /** Absent when no trace was recorded; `notRecorded` says why. */
  traceId?: string;
  notRecorded?: string;
  traceUrl?: string;
  /** Absent with --url: exporting is the server's job. */
  export?: TraceExportStatus;
  /** Set when the trace is kept in the local store. */
  local: boolean;
  destination: string;
}

export async function run(ctx: CommandContext, options: AskOptions, args: string[]): Promise<number> {
  const { endpoint, url: server } = options;
  const canPrompt = ctx.interactive && !ctx.globals.json && Boolean(process.stdin.isTTY);
  const question = await readQuestion({
    // `ask What is MLflow` needs no quotes: the words are the question.
    ...(args.length > 0 && { argument: args.join(' ') }),
    stdin: process.stdin,
    ...(canPrompt && { prompt: () => promptForQuestion(ctx.stdout) }),
  });
  return server ? askServer(ctx, server, endpoint, question) : askHere(ctx, endpoint, question);
}

async function askHere(ctx: CommandContext, endpoint: Endpoint, question: string): Promise<number> {
  const paint = createPainter(ctx);
  // Only asking here needs the agent and the tracer: `ask --url` stays a plain HTTP client.
  const [{ startAppRuntime }, { askInProcess }, { FLUSH_DEADLINE_MS }] = await Promise.all([
    import('../../agent/agent-runtime.ts'),
    import('./ask-in-process.ts'),
    import('../../runtime/start-tracing.ts'),
  ]);
  const runtime = await startAppRuntime({
    config: { cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags },
    origin: 'ask',
  });
  if (!ctx.globals.json) writeNotices(ctx.stderr, runtime.notices, paint.dim);

  const live = await liveAnswer(ctx, endpoint, `waiting for ${runtime.llm.describe()}`);
  let outcome: AskOutcome | undefined;
  let exportStatus: TraceExportStatus | undefined;
  try {
    outcome = await askInProcess(runtime, { endpoint, question, ...live.options }).finally(live.answered);
  } finally {
    // Whatever happened, the trace is on disk, and delivered if the destination takes it, before the process ends.
    const traceId = outcome && (outcome.ok ? outcome.answer.traceId : outcome.traceId);
    // A destination still being resolved (a slow server) is given the same deadline, then the trace waits on disk.
    const deadline = Date.now() + FLUSH_DEADLINE_MS;
    await runtime.destination.settled(FLUSH_DEADLINE_MS);
    exportStatus = (await flushAndReport(runtime.tracing, traceId ? [traceId] : [], Math.max(0, deadline - Date.now())))?.[0];
    await runtime.shutdown(0);
    live.stop();
  }
  const traceId = outcome.ok ? outcome.answer.traceId : outcome.traceId;
  const traceUrl = (traceId && runtime.traceLink(traceId)) || (outcome.ok ? outcome.answer.traceUrl : undefined);
  const trace: TraceReport = {
    ...(traceId ? { traceId } : { notRecorded: whyNotRecorded(runtime.config) }),
    ...(traceUrl && { traceUrl }),
    ...(exportStatus && { export: exportStatus }),
    local: runtime.destination.target === undefined,
    destination: runtime.destination.describe(),
  };
  if (live.streamed()) writeLine(ctx.stdout);
  if (outcome.ok) return finish(ctx, paint, { endpoint, answer: outcome.answer, trace, printAnswer: !live.streamed() });
  return finish(ctx, paint, { endpoint, trace, failure: askFailure(outcome.error, runtime.llm) });
}

async function askServer(ctx: CommandContext, server: URL, endpoint: Endpoint, question: string): Promise<number> {
  const paint = createPainter(ctx);
  // The token `serve` was started with, from wherever this project keeps it (.env, env, config file).
  const config = await loadConfig({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags, purpose: 'app' });
  const url = server.href.replace(/\/+$/, '');
  // The server makes the trace; with a run id it is linked from here, the run checked before asking.
  const pendingLink = config.runId ? await prepareServerRunLink(config, await fetchServerHealth(server, SERVER_DOWN_HINT), url) : undefined;
  const live = await liveAnswer(ctx, endpoint, `waiting for the server at ${server.origin}`);
  let outcome: PostOutcome;
  try {
    outcome = await postQuestion(server, endpoint, question, {
      ...(config.authToken && { authToken: config.authToken.value }),
      timeoutMs: ANSWER_TIMEOUT_MS,
      ...live.options,
    }).finally(live.answered);
  } finally {
    live.stop();
  }
  if (live.streamed()) writeLine(ctx.stdout);
  const destination = `the server at ${url}`;
  const answeredTraceId = outcome.ok ? outcome.answer.traceId : outcome.traceId;
  const link = pendingLink && answeredTraceId ? await linkServerTraces(pendingLink, [answeredTraceId]) : undefined;
  if (outcome.ok) {
    const { traceId, traceUrl } = outcome.answer;
    const trace: TraceReport = {
      ...(traceId ? { traceId } : { notRecorded: 'the server recorded no trace (tracing is off there, or the request was not sampled)' }),
      ...(traceUrl && { traceUrl }),
      local: false,
      destination,
    };
    return withLinkOutcome(ctx, link, finish(ctx, paint, { endpoint, answer: outcome.answer, trace, printAnswer: !live.streamed() }));
  }
  if (outcome.interrupted && !outcome.traceId) {
    writeLine(ctx.stderr, paint.yellow('interrupted before the server answered'));
    return ExitCode.interrupted;
  }
  const failure = outcome.interrupted ? ExitCode.interrupted : serverFailure(outcome, url);
  if (!outcome.traceId) throw failure;
  return withLinkOutcome(
    ctx,
    link,
    finish(ctx, paint, { endpoint, trace: { traceId: outcome.traceId, local: false, destination }, failure }),
  );
}

/** A trace the run does not find is an export failure, unless the command already failed for another reason. */
function withLinkOutcome(ctx: CommandContext, link: ServerRunLink | undefined, exitCode: number): number {
  if (!link?.problem) return exitCode;
  const error = new ExpectedError(`the trace was not linked to MLflow run ${link.runId}: ${link.problem}`, {
    exitCode: ExitCode.export,
    hint: '`otel-mlflow doctor` checks the tracking server and credentials end to end',
  });
  const shown = renderError(error, { ...ctx, globals: { ...ctx.globals, json: false } });
  return exitCode === ExitCode.ok ? shown : exitCode;
}

type Finished =
  | { endpoint: Endpoint; trace: TraceReport; answer: AgentAnswer; printAnswer: boolean; failure?: undefined }
  | { endpoint: Endpoint; trace: TraceReport; failure: ExpectedError | number; answer?: undefined };

/** The answer (or the failure), the trace, and whether it was exported; returns the exit code. */
function finish(ctx: CommandContext, paint: ChalkInstance, result: Finished): number {
  const { trace } = result;
  const notExported = trace.export && !trace.export.exported ? exportFailure(trace) : undefined;
  if (ctx.globals.json) writeJson(ctx.stdout, toJson(result, notExported));
  else {
    if (result.answer) {
      renderAnswer(ctx, paint, result.answer, result.printAnswer);
      writeLine(ctx.stderr);
    }
    renderTrace(ctx, paint, trace);
  }
  const quiet = { ...ctx, globals: { ...ctx.globals, json: false } };
  if (notExported) renderError(notExported, quiet);
  if (typeof result.failure === 'number') {
    writeLine(ctx.stderr, paint.yellow('interrupted: the trace keeps what was answered until then'));
    return result.failure;
  }
  if (result.failure) return renderError(result.failure, quiet);
  return notExported ? ExitCode.export : ExitCode.ok;
}

function renderAnswer(ctx: CommandContext, paint: ChalkInstance, answer: AgentAnswer, printText: boolean): void {
  if (printText) writeLine(ctx.stdout, answer.answer);
  if (answer.sources?.length) {
    writeLine(ctx.stdout, paint.dim('\nSources:'));
    for (const [i, source] of answer.sources.entries()) {
      writeLine(
        ctx.stdout,
        `  [${i + 1}] ${source.title} ${paint.dim(`(score ${source.score})`)}${source.url ? ` ${paint.cyan(source.url)}` : ''}`,
      );
    }
  }
  if (answer.steps?.length) {
    writeLine(ctx.stdout, paint.dim('\nSteps:'));
    for (const step of answer.steps) {
      const tools = step.tool_calls.map((call) => call.name).join(', ');
      writeLine(ctx.stdout, `  ${step.step}. ${tools || 'answered'}`);
    }
  }
  if (answer.finished === false) writeLine(ctx.stdout, paint.yellow('(the agent ran out of steps before a final answer)'));
}

/** On stderr, with the notes and errors: `ask … > answer.txt` keeps the answer alone. */
function renderTrace(ctx: CommandContext, paint: ChalkInstance, trace: TraceReport): void {
  if (!trace.traceId) {
    writeLine(ctx.stderr, paint.dim(trace.notRecorded ?? 'no trace was recorded'));
  } else if (trace.local) {
    writeLine(ctx.stderr, `Trace ${paint.bold(trace.traceId)} is in the local store; see it with:`);
    writeLine(ctx.stderr, `  ${commandLine(`traces show ${trace.traceId}`)}`);
  } else if (trace.traceUrl) {
    writeLine(ctx.stderr, `Trace ${paint.bold(trace.traceId)}: ${paint.cyan(trace.traceUrl)}`);
  } else {
    const exported = trace.export === undefined || trace.export.exported;
    writeLine(ctx.stderr, `Trace ${paint.bold(trace.traceId)} (${exported ? 'sent to' : 'for'} ${trace.destination})`);
  }
}

/** Stable keys for scripts; `export` is null with --url, where the server exports. */
function toJson(result: Finished, notExported: ExpectedError | undefined) {
  const { answer, trace } = result;
  const failure = result.failure instanceof ExpectedError ? result.failure : undefined;
  return {
    ok: !result.failure && !notExported,
    answer: answer?.answer ?? null,
    endpoint: result.endpoint,
    model: answer?.model ?? null,
    ...(answer?.sources && { sources: answer.sources }),
    ...(answer?.steps && { steps: answer.steps, finished: answer.finished ?? null }),
    usage: answer?.usage ?? null,
    traceId: trace.traceId ?? null,
    traceUrl: trace.traceUrl ?? null,
    export: trace.export
      ? {
          exported: trace.export.exported ? 1 : 0,
          failed: trace.export.exported ? 0 : 1,
          ...(trace.export.reason && { reason: trace.export.reason }),
        }
      : null,
    ...(failure && { error: { message: failure.message, hint: failure.hint ?? null, exitCode: failure.exitCode } }),
  };
}

function exportFailure(trace: TraceReport): ExpectedError {
  return new ExpectedError(`trace ${trace.traceId} was not exported to ${trace.destination}: ${trace.export?.reason}`, {
    exitCode: ExitCode.export,
    hint: trace.local
      ? 'check that the local store directory is writable (--store-dir, OTEL_MLFLOW_STORE_DIR)'
      : `\`${commandLine('doctor')}\` checks the destination end to end`,
  });
}

/**
 * How the answer reaches the terminal while it is written: a spinner until the first word (a slow
 * model otherwise looks like a hung command), chat streams on a terminal (not with --json), and
 * Ctrl-C stops waiting, so the trace can still say what was answered until then.
 */
async function liveAnswer(ctx: CommandContext, endpoint: Endpoint, waitingFor: string) {
  const interrupt = new AbortController();
  // Ctrl-C once stops waiting for the answer (the trace is still flushed); twice exits at once.
  const stop = onStopRequestThenNow(['SIGINT'], () => interrupt.abort());
  let spinner = await waitSpinner(ctx, waitingFor);
  // Once: ora's stop() clears the current line even when it has stopped, which would erase the answer.
  const answered = () => {
    spinner?.stop();
    spinner = undefined;
  };
  let streamed = false;
  const onDelta = (text: string) => {
    answered();
    streamed = true;
    ctx.stdout.write(maskSecrets(text));
  };
  const streaming = endpoint === 'chat' && ctx.interactive && !ctx.globals.json;
  return {
    options: { signal: interrupt.signal, ...(streaming && { onDelta }) },
    streamed: () => streamed,
    /** The answer (or the failure) is in: the spinner goes. */
    answered,
    stop,
  };
}

/** On stderr, and only when stderr is a terminal: `ask … > answer.txt` still shows it, a pipe or --json never does. */
async function waitSpinner(ctx: CommandContext, text: string): Promise<Ora | undefined> {
  if (ctx.globals.json || !(ctx.stderr as { isTTY?: boolean }).isTTY) return undefined;
  const ora = (await import('ora')).default;
  // Ctrl-C must reach our SIGINT handler, not ora's stdin handling.
  return ora({ text, stream: ctx.stderr, discardStdin: false }).start();
}

/** Why `ask` has no trace to show: tracing is off, or the sampler left this one out. */
function whyNotRecorded(config: ResolvedConfig): string {
  if (config.tracing.disabled.value) return 'tracing is off (OTEL_SDK_DISABLED): no trace was recorded';
  const arg = config.tracing.samplerArg ? `, OTEL_TRACES_SAMPLER_ARG=${config.tracing.samplerArg.value}` : '';
  return `the trace was not sampled (OTEL_TRACES_SAMPLER=${config.tracing.sampler.value}${arg}): nothing was recorded`;
}
