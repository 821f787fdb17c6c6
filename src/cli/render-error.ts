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
    if (ctx.globals.verbose && error.cause !== undefined) writeLine(ctx.stderr, paint.dim(`cause: ${String(error.cause)}`));
    return error.exitCode;
  }
  const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
  writeLine(ctx.stderr, paint.red(`internal error: ${stack}`));
  writeLine(ctx.stderr, 'This is a bug in otel-mlflow, not in your setup: please report it with the output above and `otel-mlflow --version`.');
  return ExitCode.internal;
}
