import type { CommandContext } from '../cli/context.ts';
import { createPainter, writeLine } from '../cli/output.ts';
import { wholeNumber } from '../cli/parse-whole-number.ts';
import { summarizeDelivery } from '../cli/delivery-summary.ts';
import { ExitCode } from '../errors.ts';
import type { PipelineEvent } from '../pipeline/trace-pipeline.ts';
import { startAppRuntime } from '../runtime/app-runtime.ts';
import { commandLine } from '../util/invocation.ts';

/** How long in-flight requests may take to finish after SIGINT/SIGTERM before connections are cut. */
export const SHUTDOWN_DRAIN_MS = 10_000;
/** How long the last traces may take to leave after the server stopped. */
export const SHUTDOWN_FLUSH_MS = 10_000;
const DEFAULT_PORT = 8000;

export async function run(ctx: CommandContext, options: Record<string, unknown>): Promise<number> {
  // Named as the person set it; an empty PORT is unset, as for every other variable.
  const port = options.port === undefined ? wholeNumber(ctx.env.PORT || DEFAULT_PORT, 'PORT', 0, 65535) : wholeNumber(options.port, '--port', 0, 65535);
  const host = typeof options.host === 'string' ? options.host : '127.0.0.1';
  const paint = createPainter(ctx);

  const warn = (line: string) => writeLine(ctx.stderr, paint.yellow(line));
  const runtime = await startAppRuntime({
    config: { cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags },
    origin: 'serve',
    deliverInBackground: true,
    onEvent: deliveryWarnings(warn),
  });
  const { startHttpServer } = await import('../server/start-http-server.ts');
  let server;
  try {
    server = await startHttpServer(runtime, {
      port,
      host,
      ...(runtime.config.authToken && { authToken: runtime.config.authToken.value }),
      ...(runtime.config.corsOrigins && { corsOrigins: runtime.config.corsOrigins.value }),
      log: (line) => writeLine(ctx.stdout, line),
    });
  } catch (error) {
    await runtime.shutdown(0);
    throw error;
  }
  const url = server.url;
  writeLine(ctx.stdout, `otel-mlflow serve listening on ${paint.cyan(url)} (API docs: ${url}/docs)`);
  writeLine(ctx.stdout, `traces go to ${runtime.target.description}${runtime.target.experiment ? `, experiment ${runtime.target.experiment.name ?? runtime.target.experiment.id}` : ''}`);
  writeLine(ctx.stdout, `LLM: ${runtime.llm.describe()}${runtime.config.llm.captureContent.value ? '' : ' (message content not recorded)'}`);
  for (const notice of runtime.notices) writeLine(ctx.stdout, paint.yellow(`note: ${notice}`));

  const signal = await untilSignal();
  writeLine(ctx.stdout, `${signal}: finishing in-flight requests (up to ${SHUTDOWN_DRAIN_MS / 1000} s), then flushing traces`);

  await server.close(SHUTDOWN_DRAIN_MS);
  const summary = summarizeDelivery(await runtime.shutdown(SHUTDOWN_FLUSH_MS));
  writeLine(ctx.stdout, summary.lost ? paint.red(summary.line) : summary.pending ? paint.yellow(summary.line) : summary.line);
  // Pending traces are safe on disk, but not in MLflow yet: a script must be able to tell.
  return summary.lost || summary.pending ? ExitCode.export : ExitCode.ok;
}

/** A second signal while shutting down means "now": exit at once. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/**
 * One line per distinct delivery problem, so a broken destination is visible without flooding the
 * log; a recovery is said once too. Traces are never lost here: they wait on disk.
 */
function deliveryWarnings(warn: (line: string) => void): (event: PipelineEvent) => void {
  const seen = new Set<string>();
  let failing = false;
  return (event) => {
    switch (event.kind) {
      case 'delivered':
        if (failing) warn(`traces: the destination answers again; delivering what waited on disk`);
        failing = false;
        return;
      case 'retry':
        failing = true;
        if (!seen.has(event.answer)) {
          seen.add(event.answer);
          warn(`warning: traces not delivered yet (${event.answer}); they wait on disk and are retried (same failures are not printed again)`);
        }
        return;
      case 'dead':
        if (!seen.has(event.answer)) {
          seen.add(event.answer);
          warn(`warning: trace ${event.traceId} was refused: ${event.answer}; kept as a dead letter (\`${commandLine('traces list --status dead')}\`; same refusals are counted, not printed)`);
        }
        return;
      case 'after-delivery-failed':
        if (!seen.has(event.answer)) {
          seen.add(event.answer);
          warn(`warning: ${event.answer}`);
        }
        return;
      case 'store-refused':
        warn(`warning: ${event.traces} trace(s) not stored: ${event.reason}`);
        return;
      case 'store-near-cap':
        warn(`warning: the trace store holds ${Math.round(event.bytes / 1024 ** 2)} MB of its ${Math.round(event.maxBytes / 1024 ** 2)} MB cap; delivered traces will give way first (OTEL_MLFLOW_STORE_MAX_MB raises it, \`${commandLine('traces prune')}\` frees it)`);
        return;
    }
  };
}
