import type { CommandContext } from '../../cli/context.ts';
import { createPainter, writeLine, writeNotices } from '../../cli/output.ts';
import { parsePort } from '../../cli/parse-whole-number.ts';
import { summarizeDelivery, paintedSummary } from '../../cli/delivery-summary.ts';
import { deliveryWarnings } from '../../cli/delivery-warnings.ts';
import { interruptedBy, untilSignal } from '../../cli/until-signal.ts';
import { ExitCode } from '../../errors.ts';
import { startAppRuntime } from '../../agent/agent-runtime.ts';
import type { RunningHttpServer } from '../../agent/server/start-http-server.ts';
import type { ServeOptions } from './serve-options.ts';

/** How long in-flight requests may take to finish after SIGINT/SIGTERM before connections are cut. */
export const SHUTDOWN_DRAIN_MS = 10_000;
/** How long the last traces may take to leave after the server stopped. */
export const SHUTDOWN_FLUSH_MS = 10_000;
const DEFAULT_PORT = '8000';

export async function run(ctx: CommandContext, options: ServeOptions): Promise<number> {
  // Named as the person set it; an empty PORT is unset, as for every other variable.
  const port = options.port ?? parsePort(ctx.env.PORT || DEFAULT_PORT, 'PORT');
  const { host } = options;
  const paint = createPainter(ctx);

  const warn = (line: string) => writeLine(ctx.stderr, paint.yellow(line));
  const runtime = await startAppRuntime({
    config: { cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags },
    origin: 'serve',
    deliverInBackground: true,
    onEvent: deliveryWarnings(warn),
    onDestinationChange: warn,
  });
  const { startHttpServer } = await import('../../agent/server/start-http-server.ts');
  let server: RunningHttpServer;
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
  // Before the line that says it listens: a SIGTERM sent on reading it must find serve ready to shut down.
  const stops = untilSignal(ctx.env);
  writeLine(ctx.stdout, `otel-mlflow serve listening on ${paint.cyan(url)} (API docs: ${url}/docs)`);
  // One line each for where traces go and which model answers; notes only for what those lines do not say.
  const start = runtime.destination.startLines();
  writeLine(ctx.stdout, `traces go to ${start.destination}`);
  const llmNotes = [
    ...(runtime.llmNotice ? [runtime.llmNotice] : []),
    ...(runtime.config.llm.captureContent.value ? [] : ['message content not recorded']),
  ];
  writeLine(ctx.stdout, `LLM: ${runtime.llm.describe()}${llmNotes.length > 0 ? `: ${llmNotes.join('; ')}` : ''}`);
  writeNotices(ctx.stdout, [...runtime.config.notices, ...start.notices], paint.yellow);

  const reason = await stops.first;
  writeLine(
    ctx.stdout,
    `${reason}: finishing in-flight requests (up to ${SHUTDOWN_DRAIN_MS / 1000} s), then flushing traces; a second request stops waiting`,
  );

  await server.close(SHUTDOWN_DRAIN_MS, stops.interrupt);
  const report = await runtime.shutdown(SHUTDOWN_FLUSH_MS, stops.interrupt);
  const summary = summarizeDelivery(report && { ...report, ...interruptedBy(stops.interrupt) });
  writeLine(ctx.stdout, paintedSummary(paint, summary));
  // Pending traces are safe on disk, but not in MLflow yet: a script must be able to tell.
  return summary.lost || summary.pending ? ExitCode.export : ExitCode.ok;
}
