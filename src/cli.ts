import { homedir } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import type { CommandContext, GlobalOptions } from './cli/context.ts';
import { renderError } from './cli/render-error.ts';
import type { FlagValues } from './config/types.ts';
import { ExitCode } from './errors.ts';
import { VERSION } from './version.ts';

type CommandModule = { run(ctx: CommandContext, options: Record<string, unknown>, args: string[]): Promise<number> };

/** Commands load on first use, so `--help` and `--version` never pay for OpenTelemetry or openai. */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  doctor: () => import('./commands/doctor.ts') as Promise<CommandModule>,
  config: () => import('./commands/config.ts') as Promise<CommandModule>,
  serve: () => import('./commands/serve.ts') as Promise<CommandModule>,
};

export function buildProgram(execute: (name: string, options: Record<string, unknown>, args: string[]) => Promise<void>): Command {
  const program = new Command('otel-mlflow')
    .description('Get OpenTelemetry traces of LLM applications into MLflow, and prove they arrived.')
    .version(VERSION, '-V, --version')
    .option('--config <file>', 'config file to use instead of searching for one')
    .option('--profile <name>', 'profile in ~/.databrickscfg')
    .option('--tracking-uri <uri>', 'MLflow tracking URI (http(s)://…, databricks, databricks://<profile>)')
    .option('--experiment <name>', 'experiment name')
    .option('--experiment-id <id>', 'experiment id (wins over --experiment)')
    .addOption(new Option('--export-path <path>', 'how traces reach MLflow').choices(['auto', 'otlp', 'rest']))
    .addOption(new Option('--otlp-encoding <encoding>', 'OTLP body encoding').choices(['protobuf', 'json']))
    .option('--uc-table <table>', 'Databricks Unity Catalog table <catalog>.<schema>.<prefix>_otel_spans')
    .option('--json', 'machine-readable output', false)
    .option('--no-color', 'no colour in output')
    .option('--verbose', 'more detail, including causes of errors', false)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('doctor')
    .description('check config, server, auth and experiment; send test traces and read them back from MLflow')
    .option('--traces <n>', 'how many test traces to send', '3')
    .option('--create-experiment', 'create the experiment when it does not exist', false)
    .option('--timeout <seconds>', 'how long to wait for traces to appear in MLflow', '30')
    .action((options: Record<string, unknown>, command: Command) => execute('doctor', { ...command.optsWithGlobals(), ...options }, []));

  program
    .command('serve')
    .description('run the traced LLM agent over HTTP: /chat, /rag/v1/answer, /agent/task, /docs')
    .option('--port <port>', 'port to listen on (default 8000, or PORT)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--provider <provider>', 'LLM provider (default: openai with OPENAI_API_KEY, else offline)').choices(['openai', 'databricks', 'offline']))
    .option('--model <model>', 'model or Databricks serving endpoint name')
    .option('--no-capture-content', 'do not record message content on LLM spans')
    .option('--auth-token <token>', 'require `Authorization: Bearer <token>` on every route but GET / (or OTEL_MLFLOW_AUTH_TOKEN)')
    .action((options: Record<string, unknown>, command: Command) => execute('serve', { ...command.optsWithGlobals(), ...options }, []));

  program
    .command('config')
    .description('print the resolved configuration and where each value came from (secrets masked)')
    .action((options: Record<string, unknown>, command: Command) => execute('config', { ...command.optsWithGlobals(), ...options }, []));

  return program;
}

function globalsFrom(options: Record<string, unknown>): GlobalOptions {
  return {
    ...(typeof options.config === 'string' && { config: options.config }),
    ...(typeof options.profile === 'string' && { profile: options.profile }),
    json: options.json === true,
    color: options.color !== false,
    verbose: options.verbose === true,
  };
}

const FLAG_KEYS = ['config', 'profile', 'trackingUri', 'experiment', 'experimentId', 'exportPath', 'otlpEncoding', 'ucTable', 'provider', 'model', 'authToken'] as const;

function flagsFrom(options: Record<string, unknown>): FlagValues {
  const flags: FlagValues = {};
  for (const key of FLAG_KEYS) {
    const value = options[key];
    if (typeof value === 'string') flags[key] = value;
  }
  // `--no-capture-content` is the only way to say it on the command line; absent means "not given".
  if (options.captureContent === false) flags.captureContent = 'false';
  return flags;
}

export async function main(argv: string[]): Promise<void> {
  const base = {
    env: process.env,
    cwd: process.cwd(),
    homeDir: homedir(),
    stdout: process.stdout,
    stderr: process.stderr,
    interactive: Boolean(process.stdout.isTTY),
  };
  const execute = async (name: string, options: Record<string, unknown>, args: string[]) => {
    const ctx: CommandContext = { ...base, globals: globalsFrom(options), flags: flagsFrom(options) };
    try {
      const command = await COMMANDS[name]!();
      process.exitCode = await command.run(ctx, options, args);
    } catch (error) {
      process.exitCode = renderError(error, ctx);
    }
  };
  try {
    await buildProgram(execute).parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; bad flags are usage errors, already explained by commander.
      process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      return;
    }
    throw error;
  }
}
