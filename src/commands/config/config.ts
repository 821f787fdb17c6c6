import type { CommandContext } from '../../cli/context.ts';
import { writeJson, writeLine } from '../../cli/output.ts';
import { inspectConfig } from '../../config/load-config.ts';
import { configToJson, configToLines, invalidConfigToJson, valueLines } from '../../config/render-config.ts';
import { ConfigError, ExitCode, type ConfigProblem } from '../../errors.ts';

/**
 * `otel-mlflow config`: what each command will use, every value with its source, secrets masked.
 * Loaded twice, as doctor and as the app commands load it (the old demo kept one experiment for
 * each). An invalid configuration still shows every value that did resolve, then its problems.
 */
export async function run(ctx: CommandContext): Promise<number> {
  const base = { cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags };
  const [doctor, app] = await Promise.all([inspectConfig({ ...base, purpose: 'doctor' }), inspectConfig({ ...base, purpose: 'app' })]);
  if (doctor.config && app.config) {
    const views = { doctor: doctor.config, app: app.config };
    if (ctx.globals.json) writeJson(ctx.stdout, configToJson(views));
    else for (const line of configToLines(views)) writeLine(ctx.stdout, line);
    return ExitCode.ok;
  }
  const problems = mergeProblems(doctor.problems, app.problems);
  if (ctx.globals.json) {
    writeJson(ctx.stdout, invalidConfigToJson(doctor, problems));
    return ExitCode.config;
  }
  for (const line of valueLines(doctor)) writeLine(ctx.stdout, line);
  throw new ConfigError(problems, 'the values above are the ones that did resolve, each with where it was set; fix the ones named here');
}

/** A problem only one kind of command has (its experiment variable) says which. */
function mergeProblems(doctor: readonly ConfigProblem[], app: readonly ConfigProblem[]): ConfigProblem[] {
  const key = (p: ConfigProblem) => `${p.message}\0${p.source ?? ''}`;
  const inApp = new Set(app.map(key));
  const inDoctor = new Set(doctor.map(key));
  const only = (p: ConfigProblem, who: string) => ({ ...p, message: `${p.message} (${who})` });
  return [
    ...doctor.map((p) => (inApp.has(key(p)) ? p : only(p, 'doctor'))),
    ...app.filter((p) => !inDoctor.has(key(p))).map((p) => only(p, 'serve, ask, suite')),
  ];
}
