import { ConfigError, ExitCode, ExpectedError } from '../errors.ts';
import type { CommandContext } from './context.ts';
import { createPainter, writeJson, writeLine } from './output.ts';

/**
 * Expected failures: one line plus a hint. Anything else is a bug: the stack, and where to report it.
 * Returns the exit code; the caller sets process.exitCode so pending flushes still run.
 */
export function renderError(error: unknown, ctx: Pick<CommandContext, 'globals' | 'env' | 'interactive' | 'stderr' | 'stdout'>): number {
  const paint = createPainter({ ...ctx, interactive: ctx.interactive });
  if (error instanceof ExpectedError) {
    if (ctx.globals.json) {
      writeJson(ctx.stdout, {
        ok: false,
        error: {
          message: error.message,
          hint: error.hint ?? null,
          exitCode: error.exitCode,
          ...(error instanceof ConfigError && { problems: error.problems }),
        },
      });
    }
    writeLine(ctx.stderr, paint.red(`error: ${error.message}`));
    if (error.hint) writeLine(ctx.stderr, paint.dim(`hint: ${error.hint}`));
    if (ctx.globals.verbose) for (const cause of causeChain(error.cause)) writeLine(ctx.stderr, paint.dim(`cause: ${cause}`));
    return error.exitCode;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  writeLine(ctx.stderr, paint.red(`internal error: ${stack}`));
  writeLine(
    ctx.stderr,
    'This is a bug in otel-mlflow, not in your setup: please report it with the output above and `otel-mlflow --version`.',
  );
  return ExitCode.internal;
}

/**
 * Every cause under an error, outermost first: fetch and the openai client wrap the socket's error
 * (ECONNREFUSED, ENOTFOUND, a certificate problem) two or three levels down, or in an AggregateError.
 */
function causeChain(cause: unknown, depth = 0): string[] {
  if (cause === undefined || depth > 5) return [];
  if (!(cause instanceof Error)) return [String(cause)];
  const inner = cause instanceof AggregateError ? cause.errors.flatMap((e: unknown) => causeChain(e, depth + 1)) : [];
  return [String(cause), ...inner, ...causeChain(cause.cause, depth + 1)];
}
