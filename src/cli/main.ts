import { homedir } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import type { CommandContext, GlobalOptions } from './context.ts';
import type { FlagValues } from '../config/types.ts';
import { ExitCode } from '../errors.ts';
import { detectInvocation, setInvocation, setStoreDir } from '../invocation.ts';
import { VERSION } from '../version.ts';

type CommandModule = { run(ctx: CommandContext, options: Record<string, unknown>, args: string[]): Promise<number> };

/** Commands load on first use, so `--help` and `--version` never pay for OpenTelemetry or openai. */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  doctor: () => import('../commands/doctor/doctor.ts') as Promise<CommandModule>,
  config: () => import('../commands/config/config.ts') as Promise<CommandModule>,
  serve: () => import('../commands/serve/serve.ts') as Promise<CommandModule>,
  relay: () => import('../commands/relay/relay.ts') as Promise<CommandModule>,
  ask: () => import('../commands/ask/ask.ts') as Promise<CommandModule>,
  suite: () => import('../commands/suite/suite.ts') as Promise<CommandModule>,
  init: () => import('../commands/init/init.ts') as Promise<CommandModule>,
  'traces list': () => import('../commands/traces/traces-list.ts') as Promise<CommandModule>,
  'traces show': () => import('../commands/traces/traces-show.ts') as Promise<CommandModule>,
  'traces push': () => import('../commands/traces/traces-push.ts') as Promise<CommandModule>,
  'traces prune': () => import('../commands/traces/traces-prune.ts') as Promise<CommandModule>,
};

/** A repeatable flag as the one comma-separated value the config loader parses. */
function joinRepeated(value: string, previous: string | undefined): string {
  return previous === undefined ? value : `${previous},${value}`;
}

/** The LLM flags every command that talks to a model shares. */
function withLlmOptions(command: Command): Command {
  return command
    .addOption(new Option('--provider <provider>', 'LLM provider (default: openai with OPENAI_API_KEY, else offline)').choices(['openai', 'databricks', 'offline']))
    .option('--model <model>', 'model or Databricks serving endpoint name')
    .option('--no-capture-content', 'do not record message content on LLM spans');
}

/** The commands whose traces can be tied to an MLflow run. */
function withRunOption(command: Command): Command {
  return command.option('--run-id <id>', 'link the traces to this MLflow run (or MLFLOW_RUN_ID)');
}

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
    .option('--store-dir <dir>', 'the trace store every trace is written to first (or OTEL_MLFLOW_STORE_DIR)')
    .option('--json', 'machine-readable output', false)
    .option('--no-color', 'no colour in output')
    .option('--verbose', 'more detail, including causes of errors', false)
    .showHelpAfterError('(run with --help for usage)')
    // Inherited by every subcommand: `init --help` must list --profile, --tracking-uri, --json…
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();

  withRunOption(program.command('doctor'))
    .description('check config, server, auth and experiment; send test traces and read them back from MLflow')
    .option('--traces <n>', 'how many test traces to send', '3')
    .option('--create-experiment', 'create the experiment when it does not exist', false)
    .option('--timeout <seconds>', 'how long to wait for traces to appear in MLflow', '30')
    .action((options: Record<string, unknown>, command: Command) => execute('doctor', { ...command.optsWithGlobals(), ...options }, []));

  withRunOption(withLlmOptions(program.command('serve')))
    .description('run the traced LLM agent over HTTP: /chat, /rag/v1/answer, /agent/task, /docs')
    .option('--port <port>', 'port to listen on (default 8000, or PORT)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--auth-token <token>', 'require `Authorization: Bearer <token>` on every route but GET / and the API docs; `-` reads it from stdin (or OTEL_MLFLOW_AUTH_TOKEN)')
    .option('--cors-origin <origin>', 'allow browser requests from this origin (repeat, or comma-separate; or OTEL_MLFLOW_CORS_ORIGINS)', joinRepeated)
    .action((options: Record<string, unknown>, command: Command) => execute('serve', { ...command.optsWithGlobals(), ...options }, []));

  withRunOption(program.command('relay'))
    .description('receive OTLP traces from any OpenTelemetry app (HTTP :4318, gRPC :4317) and deliver them to MLflow, whole and without loss')
    .option('--port <port>', 'OTLP/HTTP port', '4318')
    .option('--grpc-port <port>', 'OTLP/gRPC port, or `off`', '4317')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--auth-token <token>', 'require `Authorization: Bearer <token>` on OTLP requests; `-` reads it from stdin (or OTEL_MLFLOW_AUTH_TOKEN)')
    .action((options: Record<string, unknown>, command: Command) => execute('relay', { ...command.optsWithGlobals(), ...options }, []));

  withRunOption(withLlmOptions(program.command('ask')))
    .description('one traced chat from the terminal (in-process, or through a running server with --url)')
    .argument('[question...]', 'the question (quotes optional); asked for on a terminal, or read from stdin when piped')
    .addOption(new Option('--endpoint <endpoint>', 'which agent path answers').choices(['chat', 'rag', 'agent']).default('chat'))
    .option('--url <url>', 'send the question to a running `otel-mlflow serve` instead')
    .action((words: string[], options: Record<string, unknown>, command: Command) => execute('ask', { ...command.optsWithGlobals(), ...options }, words));

  withRunOption(withLlmOptions(program.command('suite')))
    .description('run a suite of Databricks/MLflow/OpenTelemetry questions through the agent and summarise them')
    .option('--url <url>', 'the running server to use', 'http://127.0.0.1:8000')
    .option('--spawn', 'start an in-process server for the run instead', false)
    .option('--file <file>', 'your own questions: JSON, YAML, or one question per line')
    .addOption(new Option('--endpoint <endpoint>', 'which endpoint answers').choices(['chat', 'rag', 'agent']).default('chat'))
    .option('--concurrency <n>', 'questions in flight at once', '2')
    .option('--repeat <n>', 'run the suite this many times', '1')
    .option('--session <id>', 'group the run as one MLflow session')
    .option('--output <file>', 'write one NDJSON line per question as it finishes')
    .option('--verify', 'read every trace back from MLflow and report any that did not land', false)
    .option('--judge', 'an LLM judges correctness and groundedness too (needs a real LLM provider)', false)
    .option('--min-pass-rate <rate>', 'share of questions that must pass for exit 0: 0..1 or N%', '1')
    .option('--auth-token <token>', 'bearer token of the server; `-` reads it from stdin (or OTEL_MLFLOW_AUTH_TOKEN)')
    .option('--compare <run>', "compare with an MLflow run: its id, or 'previous' (the last finished suite run); exit 11 on a regression")
    .option('--tolerance <spec>', 'how much worse --compare allows: score=<drop 0-1>,latency=<p95 rise %> (default: score=0,latency=20%)')
    .action((options: Record<string, unknown>, command: Command) => execute('suite', { ...command.optsWithGlobals(), ...options }, []));

  program
    .command('init')
    .description('set up where traces go, the experiment and the LLM, tested live, then write the config')
    .option('--yes', 'accept defaults and take every answer from flags (for scripts)', false)
    .addOption(new Option('--destination <kind>', 'where traces go').choices(['mlflow', 'databricks', 'collector', 'local']))
    .option('--databricks-host <url>', 'Databricks workspace URL')
    .option('--databricks-token <token>', 'Databricks personal access token, written to .env; `-` reads it from stdin')
    .option('--otlp-endpoint <url>', 'OTLP collector traces endpoint')
    .option('--create-experiment', 'create the experiment when it does not exist', false)
    .addOption(new Option('--llm <provider>', 'LLM provider').choices(['openai', 'databricks', 'offline']))
    .option('--llm-model <model>', 'model or serving endpoint')
    .option('--openai-api-key <key>', 'OpenAI API key, written to .env; `-` reads it from stdin')
    .option('--openai-base-url <url>', 'base URL of the OpenAI API or of an OpenAI-compatible server (default: OPENAI_BASE_URL, else https://api.openai.com/v1)')
    .option('--config-file <file>', 'config file to write', '.otel-mlflowrc.json')
    // Not --env-file: Node reads that from anywhere on its command line and exits before we run.
    .option('--secrets-file <file>', 'where secrets go (other commands read only .env)', '.env')
    .option('--force', 'overwrite an existing config file', false)
    .action((options: Record<string, unknown>, command: Command) => execute('init', { ...command.optsWithGlobals(), ...options }, []));

  const traces = program.command('traces').description('the trace store: every trace is kept here first, then delivered');
  traces
    .command('list')
    .description('time, trace id, root span, status, delivery state, span count, duration and tokens of stored traces')
    .option('--since <when>', 'only traces newer than this: a duration (30m, 2h, 7d) or a date')
    .addOption(
      new Option('--status <status>', 'only traces with this trace status or delivery state').choices([
        'OK',
        'ERROR',
        'IN_PROGRESS',
        'local',
        'pending',
        'delivered',
        'dead',
      ]),
    )
    .option('--limit <n>', 'at most this many, newest first', '20')
    .action((options: Record<string, unknown>, command: Command) => execute('traces list', { ...command.optsWithGlobals(), ...options }, []));
  traces
    .command('show')
    .description('the span tree of one stored trace, and where its delivery stands')
    .argument('<id>', 'trace id (tr-… or a unique prefix)')
    .option('--full', 'do not cut inputs and outputs to the terminal width', false)
    .action((id: string, options: Record<string, unknown>, command: Command) => execute('traces show', { ...command.optsWithGlobals(), ...options }, [id]));
  withRunOption(traces.command('push'))
    .description('deliver stored traces (local-only and pending ones) to the configured destination (safe to run twice)')
    .argument('[ids...]', 'only these traces (default: every local and pending one)')
    .option('--since <when>', 'only traces newer than this: a duration (30m, 2h, 7d) or a date')
    .option('--dead', 'also traces the destination refused before (after the cause is fixed)', false)
    .option('--all', 'every stored trace this destination lacks, also those delivered elsewhere', false)
    .option('--include-doctor', "also doctor's test traces", false)
    .action((ids: string[], options: Record<string, unknown>, command: Command) => execute('traces push', { ...command.optsWithGlobals(), ...options }, ids));
  traces
    .command('prune')
    .description('delete delivered traces from the store (undelivered ones only when asked)')
    .option('--older-than <when>', 'delete traces older than this: a duration (30m, 2h, 7d) or a date', '30d')
    .option('--undelivered', 'also delete traces never delivered (local-only, pending, dead): they are lost', false)
    .option('--dry-run', 'only say what would be deleted', false)
    .action((options: Record<string, unknown>, command: Command) => execute('traces prune', { ...command.optsWithGlobals(), ...options }, []));

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

const FLAG_KEYS = ['config', 'profile', 'trackingUri', 'experiment', 'experimentId', 'exportPath', 'otlpEncoding', 'ucTable', 'provider', 'model', 'authToken', 'storeDir', 'corsOrigin', 'runId'] as const;

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
  setInvocation(detectInvocation(process.env));
  // `otel-mlflow traces list | head` closes the pipe early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
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
    setStoreDir(ctx.flags.storeDir);
    try {
      const { readSecretFlags } = await import('./secret-flags.ts');
      const secrets = await readSecretFlags(options, { stdin: process.stdin, promptOutput: process.stderr });
      for (const warning of secrets.warnings) ctx.stderr.write(`warning: ${warning}\n`);
      ctx.flags = flagsFrom(secrets.options);
      const command = await COMMANDS[name]!();
      process.exitCode = await command.run(ctx, secrets.options, args);
    } catch (error) {
      // Loaded on failure only: it brings chalk, which --help and a passing command do without.
      const { renderError } = await import('./render-error.ts');
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
