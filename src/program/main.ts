import { homedir } from 'node:os';
import { Command, CommanderError } from 'commander';
import { addOptions, flagsFrom, readOptions } from './commander-options.ts';
import type { CommandContext } from '../cli/context.ts';
import { GLOBAL_OPTIONS } from '../cli/global-options.ts';
import type { OptionTable, OptionValues } from '../cli/option-table.ts';
import { ASK_OPTIONS } from '../commands/ask/ask-options.ts';
import { DOCTOR_OPTIONS } from '../commands/doctor/doctor-options.ts';
import { INIT_OPTIONS } from '../commands/init/init-options.ts';
import { RELAY_OPTIONS } from '../commands/relay/relay-options.ts';
import { RUN_OPTIONS } from '../commands/run/run-options.ts';
import { SERVE_OPTIONS } from '../commands/serve/serve-options.ts';
import { SUITE_OPTIONS } from '../commands/suite/suite-options.ts';
import { TRACES_LIST_OPTIONS, TRACES_PRUNE_OPTIONS, TRACES_PUSH_OPTIONS, TRACES_SHOW_OPTIONS } from '../commands/traces/traces-options.ts';
import { ExitCode } from '../errors.ts';
import { detectInvocation, setInvocation, setStoreDir } from '../invocation.ts';
import { VERSION } from '../version.ts';

/** What `load` gives: the command's module, whose `run()` takes the options its table declares. */
interface CommandModule<T extends OptionTable> {
  run(ctx: CommandContext, options: OptionValues<T>, args: string[]): Promise<number>;
}

interface CommandSpec<T extends OptionTable> {
  name: string;
  description: string;
  /** As commander takes them: `<id>`, `[ids...]`, each with its help. */
  arguments?: readonly (readonly [name: string, description: string])[];
  options: T;
  /** On first use, so `--help` and `--version` never pay for OpenTelemetry or openai. */
  load(): Promise<CommandModule<T>>;
}

/** A command as the program registers it; its options are parsed (and refused) before it loads. */
interface CliCommand {
  kind: 'command';
  name: string;
  description: string;
  arguments: readonly (readonly [name: string, description: string])[];
  options: OptionTable;
  run(ctx: CommandContext, given: Readonly<Record<string, unknown>>, args: string[]): Promise<number>;
}

interface CommandGroup {
  kind: 'group';
  name: string;
  description: string;
  commands: readonly CliCommand[];
}

function command<T extends OptionTable>(spec: CommandSpec<T>): CliCommand {
  return {
    kind: 'command',
    name: spec.name,
    description: spec.description,
    arguments: spec.arguments ?? [],
    options: spec.options,
    async run(ctx, given, args) {
      const options = readOptions(spec.options, given);
      const module = await spec.load();
      return module.run(ctx, options, args);
    },
  };
}

/** Every command, in --help's order. */
const COMMANDS: readonly (CliCommand | CommandGroup)[] = [
  command({
    name: 'doctor',
    description: 'check config, server, auth and experiment; send test traces and read them back from MLflow',
    options: DOCTOR_OPTIONS,
    load: () => import('../commands/doctor/doctor.ts'),
  }),
  command({
    name: 'serve',
    description: 'run the traced LLM agent over HTTP: /chat, /rag/v1/answer, /agent/task, /docs',
    options: SERVE_OPTIONS,
    load: () => import('../commands/serve/serve.ts'),
  }),
  command({
    name: 'relay',
    description:
      'receive OTLP traces from any OpenTelemetry app (HTTP :4318, gRPC :4317) and deliver them to MLflow, whole and without loss',
    options: RELAY_OPTIONS,
    load: () => import('../commands/relay/relay.ts'),
  }),
  command({
    name: 'run',
    description: 'run your program (`run -- node server.js`) with its requests and LLM calls traced into MLflow, no code changes',
    arguments: [['<command...>', 'the program and its arguments, after `--`']],
    options: RUN_OPTIONS,
    load: () => import('../commands/run/run.ts'),
  }),
  command({
    name: 'ask',
    description: 'one traced chat from the terminal (in-process, or through a running server with --url)',
    arguments: [['[question...]', 'the question (quotes optional); asked for on a terminal, or read from stdin when piped']],
    options: ASK_OPTIONS,
    load: () => import('../commands/ask/ask.ts'),
  }),
  command({
    name: 'suite',
    description: 'run a suite of Databricks/MLflow/OpenTelemetry questions through the agent and summarise them',
    options: SUITE_OPTIONS,
    load: () => import('../commands/suite/suite.ts'),
  }),
  command({
    name: 'init',
    description: 'set up where traces go, the experiment and the LLM, tested live, then write the config',
    options: INIT_OPTIONS,
    load: () => import('../commands/init/init.ts'),
  }),
  {
    kind: 'group',
    name: 'traces',
    description: 'the trace store: every trace is kept here first, then delivered',
    commands: [
      command({
        name: 'list',
        description: 'time, trace id, root span, status, delivery state, span count, duration and tokens of stored traces',
        options: TRACES_LIST_OPTIONS,
        load: () => import('../commands/traces/traces-list.ts'),
      }),
      command({
        name: 'show',
        description: 'the span tree of one stored trace, and where its delivery stands',
        arguments: [['<id>', 'trace id (tr-… or a unique prefix)']],
        options: TRACES_SHOW_OPTIONS,
        load: () => import('../commands/traces/traces-show.ts'),
      }),
      command({
        name: 'push',
        description: 'deliver stored traces (local-only and pending ones) to the configured destination (safe to run twice)',
        arguments: [['[ids...]', 'only these traces (default: every local and pending one)']],
        options: TRACES_PUSH_OPTIONS,
        load: () => import('../commands/traces/traces-push.ts'),
      }),
      command({
        name: 'prune',
        description: 'delete delivered traces from the store (undelivered ones only when asked)',
        options: TRACES_PRUNE_OPTIONS,
        load: () => import('../commands/traces/traces-prune.ts'),
      }),
    ],
  },
  command({
    name: 'config',
    description: 'print the resolved configuration and where each value came from (secrets masked)',
    options: {},
    load: () => import('../commands/config/config.ts'),
  }),
];

type Execute = (command: CliCommand, given: Readonly<Record<string, unknown>>, args: string[]) => Promise<void>;

export function buildProgram(execute: Execute): Command {
  const program = new Command('otel-mlflow')
    .description('Get OpenTelemetry traces of LLM applications into MLflow, and prove they arrived.')
    .version(VERSION, '-V, --version');
  addOptions(program, GLOBAL_OPTIONS);
  program
    .showHelpAfterError('(run with --help for usage)')
    // Inherited by every subcommand: `init --help` must list --profile, --tracking-uri, --json…
    .configureHelp({ showGlobalOptions: true })
    .exitOverride();
  for (const entry of COMMANDS) register(program, entry, execute);
  return program;
}

function register(parent: Command, entry: CliCommand | CommandGroup, execute: Execute): void {
  const registered = parent.command(entry.name).description(entry.description);
  if (entry.kind === 'group') {
    for (const sub of entry.commands) register(registered, sub, execute);
    return;
  }
  for (const [name, description] of entry.arguments) registered.argument(name, description);
  addOptions(registered, entry.options);
  registered.action(() => execute(entry, registered.optsWithGlobals(), registered.args));
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
  const execute: Execute = async (command, given, args) => {
    const globals = readOptions(GLOBAL_OPTIONS, given);
    const ctx: CommandContext = { ...base, globals, flags: flagsFrom(given, globals.config) };
    setStoreDir(ctx.flags.storeDir);
    try {
      const { readSecretFlags } = await import('./secret-flags.ts');
      const secrets = await readSecretFlags(given, { stdin: process.stdin, promptOutput: process.stderr });
      for (const warning of secrets.warnings) ctx.stderr.write(`warning: ${warning}\n`);
      ctx.flags = flagsFrom(secrets.options, globals.config);
      // A store of an older version is re-encoded as it opens, synchronously, by require(): with require()
      // of ES modules switched off (NODE_OPTIONS, which `run` passes on from the program) it is loaded first.
      if (!process.features.require_module) await (await import('../pipeline/store/lazy-encoder.ts')).loadEncoder();
      process.exitCode = await command.run(ctx, secrets.options, args);
    } catch (error) {
      // Loaded on failure only: it brings chalk, which --help and a passing command do without.
      const { renderError } = await import('../cli/render-error.ts');
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
