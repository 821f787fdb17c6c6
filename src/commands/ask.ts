import type { ChalkInstance } from 'chalk';
import { parseServerUrl, toEndpoint, type AgentAnswer, type Endpoint } from '../agent-client/endpoints.ts';
import { ANSWER_TIMEOUT_MS, postQuestion } from '../agent-client/post-question.ts';
import { askFailure, INTERRUPTED_EXIT_CODE, serverFailure } from '../ask/ask-failures.ts';
import { promptForQuestion, readQuestion } from '../ask/read-question.ts';
import { traceExportStatus, type TraceExportStatus } from '../ask/trace-export-status.ts';
import type { CommandContext } from '../cli/context.ts';
import { createPainter, writeJson, writeLine } from '../cli/output.ts';
import { renderError } from '../cli/render-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { commandLine } from '../util/invocation.ts';

/** Where the trace went, for the lines after the answer. */
interface TraceReport {
  traceId: string;
  traceUrl?: string;
  /** Absent with --url: exporting is the server's job. */
  export?: TraceExportStatus;
  /** Set when the trace is kept in the local store. */
  local: boolean;
  destination: string;
}

export async function run(ctx: CommandContext, options: Record<string, unknown>, args: string[]): Promise<number> {
  const endpoint = toEndpoint(options.endpoint ?? 'chat');
  const server = typeof options.url === 'string' ? parseServerUrl(options.url, '--url') : undefined;
  const canPrompt = ctx.interactive && !ctx.globals.json && Boolean(process.stdin.isTTY);
  const question = await readQuestion({
    ...(args[0] !== undefined && { argument: args[0] }),
    stdin: process.stdin,
    ...(canPrompt && { prompt: () => promptForQuestion(ctx.stdout) }),
  });
  return server ? askServer(ctx, server, endpoint, question) : askHere(ctx, endpoint, question);
}

async function askHere(ctx: CommandContext, endpoint: Endpoint, question: string): Promise<number> {
  const paint = createPainter(ctx);
  // Only asking here needs the agent and the tracer: `ask --url` stays a plain HTTP client.
  const [{ startAppRuntime }, { askInProcess }, { FLUSH_DEADLINE_MS }] = await Promise.all([
    import('../runtime/app-runtime.ts'),
    import('../ask/ask-in-process.ts'),
    import('../tracing/bootstrap.ts'),
  ]);
  const runtime = await startAppRuntime({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });
  if (!ctx.globals.json) for (const notice of runtime.notices) writeLine(ctx.stderr, paint.dim(`note: ${notice}`));

  const live = liveAnswer(ctx, endpoint);
  let outcome;
  try {
    outcome = await askInProcess(runtime, { endpoint, question, ...live.options });
  } finally {
    // Whatever happened, the trace leaves before the process does.
    await runtime.shutdown(FLUSH_DEADLINE_MS);
    live.stop();
  }
  const traceId = outcome.ok ? outcome.answer.traceId : outcome.traceId;
  const traceUrl = outcome.ok ? outcome.answer.traceUrl : runtime.traceLink(traceId);
  const trace: TraceReport = {
    traceId,
    ...(traceUrl && { traceUrl }),
    export: traceExportStatus(runtime.tracing.ledger.records, traceId, FLUSH_DEADLINE_MS),
    local: runtime.target.route === 'local',
    destination: runtime.target.description,
  };
  if (live.streamed()) writeLine(ctx.stdout);
  if (outcome.ok) return finish(ctx, paint, { endpoint, answer: outcome.answer, trace, printAnswer: !live.streamed() });
  return finish(ctx, paint, { endpoint, trace, failure: askFailure(outcome.error, runtime.llm.describe()) });
}

async function askServer(ctx: CommandContext, server: URL, endpoint: Endpoint, question: string): Promise<number> {
  const paint = createPainter(ctx);
  // The token `serve` was started with, from wherever this project keeps it (.env, env, config file).
  const config = await loadConfig({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags, purpose: 'app' });
  const live = liveAnswer(ctx, endpoint);
  let outcome;
  try {
    outcome = await postQuestion(server, endpoint, question, {
      ...(config.authToken && { authToken: config.authToken.value }),
      timeoutMs: ANSWER_TIMEOUT_MS,
      ...live.options,
    });
  } finally {
    live.stop();
  }
  if (live.streamed()) writeLine(ctx.stdout);
  const url = server.href.replace(/\/+$/, '');
  const destination = `the server at ${url}`;
  if (outcome.ok) {
    const { traceId, traceUrl } = outcome.answer;
    const trace: TraceReport = { traceId, ...(traceUrl && { traceUrl }), local: false, destination };
    return finish(ctx, paint, { endpoint, answer: outcome.answer, trace, printAnswer: !live.streamed() });
  }
  if (outcome.interrupted && !outcome.traceId) {
    writeLine(ctx.stderr, paint.yellow('interrupted before the server answered'));
    return INTERRUPTED_EXIT_CODE;
  }
  const failure = outcome.interrupted ? INTERRUPTED_EXIT_CODE : serverFailure(outcome, url);
  if (!outcome.traceId) throw failure;
  return finish(ctx, paint, { endpoint, trace: { traceId: outcome.traceId, local: false, destination }, failure });
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
      writeLine(ctx.stdout);
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
    answer.sources.forEach((source, i) =>
      writeLine(ctx.stdout, `  [${i + 1}] ${source.title} ${paint.dim(`(score ${source.score})`)}${source.url ? ` ${paint.cyan(source.url)}` : ''}`),
    );
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

function renderTrace(ctx: CommandContext, paint: ChalkInstance, trace: TraceReport): void {
  if (trace.local) {
    writeLine(ctx.stdout, `Trace ${paint.bold(trace.traceId)} is in the local store; see it with:`);
    writeLine(ctx.stdout, `  ${commandLine(`traces show ${trace.traceId}`)}`);
  } else if (trace.traceUrl) {
    writeLine(ctx.stdout, `Trace ${paint.bold(trace.traceId)}: ${paint.cyan(trace.traceUrl)}`);
  } else {
    writeLine(ctx.stdout, `Trace ${paint.bold(trace.traceId)} (sent to ${trace.destination})`);
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
    traceId: trace.traceId,
    traceUrl: trace.traceUrl ?? null,
    export: trace.export
      ? { exported: trace.export.exported ? 1 : 0, failed: trace.export.exported ? 0 : 1, ...(trace.export.reason && { reason: trace.export.reason }) }
      : null,
    ...(failure && { error: { message: failure.message, hint: failure.hint ?? null, exitCode: failure.exitCode } }),
  };
}

function exportFailure(trace: TraceReport): ExpectedError {
  return new ExpectedError(`trace ${trace.traceId} was not exported to ${trace.destination}: ${trace.export?.reason}`, {
    exitCode: ExitCode.export,
    hint: trace.local ? 'check that the local store directory is writable (--store-dir, OTEL_MLFLOW_STORE_DIR)' : `\`${commandLine('doctor')}\` checks the destination end to end`,
  });
}

/**
 * How the answer reaches the terminal while it is written: chat streams on a terminal (not with
 * --json), and Ctrl-C stops waiting, so the trace can still say what was answered until then.
 */
function liveAnswer(ctx: CommandContext, endpoint: Endpoint) {
  const interrupt = new AbortController();
  const stop = onFirstSigint(() => interrupt.abort());
  let streamed = false;
  const onDelta = (text: string) => {
    streamed = true;
    ctx.stdout.write(text);
  };
  const streaming = endpoint === 'chat' && ctx.interactive && !ctx.globals.json;
  return { options: { signal: interrupt.signal, ...(streaming && { onDelta }) }, streamed: () => streamed, stop };
}

/** Ctrl-C once stops waiting for the answer (the trace is still flushed); twice exits at once. */
function onFirstSigint(stop: () => void): () => void {
  const first = () => {
    process.once('SIGINT', () => process.exit(INTERRUPTED_EXIT_CODE));
    stop();
  };
  process.once('SIGINT', first);
  return () => process.removeListener('SIGINT', first);
}
