import type { CommandContext } from '../cli/context.ts';
import { createPainter, writeLine } from '../cli/output.ts';
import { wholeNumber } from '../cli/parse-whole-number.ts';
import { ExitCode } from '../errors.ts';
import { startAppRuntime } from '../runtime/app-runtime.ts';
import type { TraceExportRecord } from '../tracing/export-ledger.ts';

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

  const runtime = await startAppRuntime({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags });
  const { startHttpServer } = await import('../server/start-http-server.ts');
  let server;
  try {
    server = await startHttpServer(runtime, {
      port,
      host,
      ...(runtime.config.authToken && { authToken: runtime.config.authToken.value }),
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

  const stopReporting = reportExportFailures(runtime.tracing.ledger.onRecord.bind(runtime.tracing.ledger), (line) =>
    writeLine(ctx.stderr, paint.yellow(line)),
  );
  const signal = await untilSignal();
  writeLine(ctx.stdout, `${signal}: finishing in-flight requests (up to ${SHUTDOWN_DRAIN_MS / 1000} s), then flushing traces`);

  await server.close(SHUTDOWN_DRAIN_MS);
  const report = await runtime.shutdown(SHUTDOWN_FLUSH_MS);
  stopReporting();
  const lost = report.failed + report.pending;
  writeLine(
    ctx.stdout,
    `traces: ${report.exported} exported, ${report.failed} failed${report.pending ? `, ${report.pending} not sent before the ${SHUTDOWN_FLUSH_MS / 1000} s deadline` : ''}`,
  );
  return lost > 0 ? ExitCode.export : ExitCode.ok;
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

/** One line per distinct failure reason, so a broken destination is visible without flooding the log. */
function reportExportFailures(
  subscribe: (listener: (record: TraceExportRecord) => void) => () => void,
  warn: (line: string) => void,
): () => void {
  const seen = new Map<string, number>();
  return subscribe((record) => {
    if (record.ok) return;
    const reason = record.reason ?? `HTTP ${record.status}`;
    const count = (seen.get(reason) ?? 0) + 1;
    seen.set(reason, count);
    if (count === 1) warn(`warning: trace ${record.traceId} was not exported: ${reason} (further traces failing the same way are counted, not printed)`);
  });
}
