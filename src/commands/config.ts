import type { CommandContext } from '../cli/context.ts';
import { writeJson, writeLine } from '../cli/output.ts';
import { loadConfig } from '../config/load-config.ts';
import { configToJson, configToLines } from '../config/render-config.ts';
import { ExitCode } from '../errors.ts';

/**
 * `otel-mlflow config`: the resolved configuration, each value with its source, secrets masked.
 * Shown as doctor sees it (its experiment variable); a ConfigError goes to the CLI's error renderer,
 * which lists every problem.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const config = await loadConfig({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags, purpose: 'doctor' });
  if (ctx.globals.json) writeJson(ctx.stdout, configToJson(config));
  else for (const line of configToLines(config)) writeLine(ctx.stdout, line);
  return ExitCode.ok;
}
