import { relative, resolve } from 'node:path';
import type { Ora } from 'ora';
import type { CommandContext } from '../../cli/context.ts';
import { createPainter, writeJson, writeLine } from '../../cli/output.ts';
import { ExitCode } from '../../errors.ts';
import { resolveDestinationFlags, withDefaults, type InitAnswers } from './init-answers.ts';
import type { InitOptions } from './init-options.ts';
import type { InitProgress } from './init-session.ts';
import { terminalPrompter } from './prompter.ts';
import { ConfigFileKept, runInit, type InitResult } from './run-init.ts';
import { commandLine } from '../../invocation.ts';

export async function run(ctx: CommandContext, options: InitOptions): Promise<number> {
  const { yes } = options;
  const given = resolveDestinationFlags(answersFrom(ctx, options));
  const answers = yes ? withDefaults(given) : given;
  const canAsk = !yes && ctx.interactive && !ctx.globals.json && Boolean(process.stdin.isTTY);
  const progress = await createProgress(ctx);
  let result: InitResult;
  try {
    result = await runInit({
      cwd: ctx.cwd,
      homeDir: ctx.homeDir,
      env: ctx.env,
      answers,
      configFile: resolve(ctx.cwd, options.configFile),
      envFile: resolve(ctx.cwd, options.secretsFile),
      force: options.force,
      ...(canAsk && { prompter: await terminalPrompter(ctx.stdout) }),
      progress,
    });
  } catch (error) {
    // "No" to "Replace it?" is the person's answer, not a failure.
    if (!(error instanceof ConfigFileKept)) throw error;
    writeLine(ctx.stdout, `Kept ${relative(ctx.cwd, error.path) || error.path} as it is: nothing was written.`);
    return ExitCode.ok;
  } finally {
    progress.stop();
  }
  if (ctx.globals.json) writeJson(ctx.stdout, toJson(result));
  else renderSummary(ctx, result);
  return ExitCode.ok;
}

function answersFrom(ctx: CommandContext, options: InitOptions): InitAnswers {
  return {
    destination: options.destination,
    trackingUri: ctx.flags.trackingUri,
    profile: ctx.flags.profile,
    databricksHost: options.databricksHost,
    databricksToken: options.databricksToken,
    otlpEndpoint: options.otlpEndpoint,
    experiment: ctx.flags.experiment,
    createExperiment: options.createExperiment,
    llm: options.llm,
    llmModel: options.llmModel,
    openaiApiKey: options.openaiApiKey,
    openaiBaseUrl: options.openaiBaseUrl,
    anthropicApiKey: options.anthropicApiKey,
    anthropicBaseUrl: options.anthropicBaseUrl,
  };
}

/** A spinner while an answer is tested on a terminal, result lines otherwise, nothing with --json. */
async function createProgress(ctx: CommandContext): Promise<InitProgress & { stop(): void }> {
  const paint = createPainter(ctx);
  const quiet = ctx.globals.json;
  const ora = ctx.interactive && !quiet ? (await import('ora')).default : undefined;
  let spinner: Ora | undefined;
  const stop = () => {
    spinner?.stop();
    spinner = undefined;
  };
  return {
    checking(title) {
      spinner = ora?.({ text: title, stream: ctx.stdout, color: 'cyan' }).start();
    },
    passed(detail) {
      stop();
      if (!quiet) writeLine(ctx.stdout, `${paint.green('✔')} ${detail}`);
    },
    retrying(error) {
      stop();
      writeLine(ctx.stdout, `${paint.red('✖')} ${error.message}`);
      if (error.hint) writeLine(ctx.stdout, `  ${paint.dim(`hint: ${error.hint}`)}`);
      writeLine(ctx.stdout, paint.dim('  Try another answer:'));
    },
    stop,
  };
}

function renderSummary(ctx: CommandContext, result: InitResult): void {
  const paint = createPainter(ctx);
  const shown = (path: string) => relative(ctx.cwd, path) || path;
  writeLine(ctx.stdout);
  // What the file now says, as it says it: a bare list of key names read like a file holding only names.
  writeLine(ctx.stdout, `${paint.green('✔')} Wrote ${paint.bold(shown(result.configFile.path))}:`);
  for (const [key, value] of Object.entries(result.configFile.settings)) writeLine(ctx.stdout, `    ${key}: ${value}`);
  if (result.envFile) {
    const verb = result.envFile.created ? 'Wrote' : 'Updated';
    writeLine(
      ctx.stdout,
      `${paint.green('✔')} ${verb} ${paint.bold(shown(result.envFile.path))} (readable only by you): ${result.envFile.keys.join(', ')}`,
    );
  }
  writeLine(ctx.stdout, `  Traces go to ${describeDestination(result)}.`);
  for (const note of result.notes) writeLine(ctx.stdout, paint.yellow(`! ${note}`));
  writeLine(ctx.stdout);
  writeLine(ctx.stdout, `Next: run ${paint.cyan(commandLine('doctor'))} to send test traces and see them arrive.`);
}

function describeDestination(result: InitResult): string {
  const d = result.destination;
  const experiment = result.experiment ? `, experiment '${result.experiment.name}'` : '';
  switch (d.kind) {
    case 'mlflow':
      return `MLflow${d.version === undefined ? '' : ` ${d.version}`} at ${d.trackingUri}${experiment}`;
    case 'databricks':
      return `the Databricks workspace ${d.host}${d.profile ? ` (profile ${d.profile})` : ''}${experiment}`;
    case 'collector':
      return `the OTLP collector at ${d.endpoint}`;
    case 'local':
      return `the local store${result.storeDir ? ` ${result.storeDir}` : ''} (\`${commandLine('traces list')}\`; \`${commandLine('traces push')}\` sends them to MLflow later)`;
  }
}

/** Stable keys for scripts; secrets appear by name only. */
function toJson(result: InitResult) {
  return {
    ok: true,
    destination: result.destination,
    experiment: result.experiment ?? null,
    llm: { provider: result.llm.provider, model: result.llm.model ?? null },
    configFile: result.configFile,
    envFile: result.envFile ?? null,
    storeDir: result.storeDir ?? null,
    notes: result.notes,
    next: commandLine('doctor'),
  };
}
