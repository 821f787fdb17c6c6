import { stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { parseDotenv } from '../../config/dotenv.ts';
import { readOptionalFile } from '../../config/read-optional-file.ts';
import type { LlmProviderName } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import type { EnsuredExperiment } from '../../mlflow/ensure-experiment.ts';
import { writeEnvFile } from './env-file.ts';
import { gitIgnoreStatus } from './git-ignore.ts';
import { missingFlags, type DestinationChoice, type InitAnswers } from './init-answers.ts';
import { GoBack, type InitProgress, type InitSession } from './init-session.ts';
import type { Prompter } from './prompter.ts';
import { askDestination, setupDestination, type DestinationSetup, type DestinationSummary } from './setup-destination.ts';
import { setupExperiment, untestedExperimentName } from './setup-experiment.ts';
import { setupLlm } from './setup-llm.ts';
import { noticeWhatHidesSetup } from './verify-setup.ts';
import { configFileExists, configFileSettings, writeConfigFile, type ConfigFileValues } from './write-config-file.ts';
import { commandLine } from '../../invocation.ts';

export interface InitOptions {
  cwd: string;
  homeDir: string;
  env: Readonly<Record<string, string | undefined>>;
  answers: InitAnswers;
  /** Absolute paths. */
  configFile: string;
  envFile: string;
  /** Replace an existing config file without asking. */
  force: boolean;
  /** Absent when nobody can answer (no terminal, --yes, --json): the flags must then answer everything. */
  prompter?: Prompter;
  progress: InitProgress;
}

export interface InitResult {
  destination: DestinationSummary;
  experiment?: { id: string; name: string; action: EnsuredExperiment['action'] };
  llm: { provider: LlmProviderName; model?: string };
  /** `settings`: the keys as the file spells them, with their values (the file holds no secret). */
  configFile: { path: string; keys: string[]; settings: Record<string, string> };
  /** Only when there were secrets to write. */
  envFile?: { path: string; keys: string[]; created: boolean };
  /** Where traces are kept when they go nowhere else. */
  storeDir?: string;
  /** Things to fix before the set-up works as written. */
  notes: string[];
}

/**
 * Asks where traces go, the experiment and the LLM, testing each answer against the real service
 * before the next question; then writes the config file (no secrets) and the env file (secrets only).
 * Nothing is written unless every answer passed.
 */
export async function runInit(options: InitOptions): Promise<InitResult> {
  const { answers } = options;
  const overwrite = await mayReplaceConfigFile(options);
  const envText = await readOptionalFile(options.envFile);
  const envValues = envText === undefined ? new Map<string, string | null>() : parseDotenv(envText, options.env).values;
  const session: InitSession = {
    ...(options.prompter && { prompter: options.prompter }),
    progress: options.progress,
    existing: (name) => options.env[name] || envValues.get(name) || undefined,
    cwd: options.cwd,
    homeDir: options.homeDir,
  };
  if (!options.prompter) {
    const missing = missingFlags(answers, session.existing);
    if (missing.length > 0) {
      throw new ExpectedError(`init cannot ask here, and these answers have no default: pass ${missing.join(', ')}`, {
        exitCode: ExitCode.usage,
        hint: `run \`${commandLine('init')}\` in a terminal to be asked instead; \`${commandLine('init --help')}\` lists every flag`,
      });
    }
  }

  const { destinationChoice, destination } = await chooseDestination(session, answers);
  const databricks = destinationChoice === 'databricks';
  const experiment =
    destination.tracking &&
    (await setupExperiment(session, destination.tracking, {
      databricks,
      name: answers.experiment,
      createExperiment: answers.createExperiment,
    }));
  const untestedExperiment =
    !destination.tracking && (destinationChoice === 'mlflow' || databricks)
      ? await untestedExperimentName(session, { databricks, name: answers.experiment })
      : undefined;
  const llm = await setupLlm(session, destinationChoice, {
    provider: answers.llm,
    model: answers.llmModel,
    openai: { apiKey: answers.openaiApiKey, baseUrl: answers.openaiBaseUrl },
    anthropic: { apiKey: answers.anthropicApiKey, baseUrl: answers.anthropicBaseUrl },
  });

  const experimentName = experiment ? experiment.experiment.name : untestedExperiment;
  const file: ConfigFileValues = { ...destination.file, ...(experimentName !== undefined && { experimentName }), ...llm.file };
  const secrets = { ...destination.secrets, ...llm.secrets };
  await writeConfigFile(options.configFile, file, { overwrite });
  const envWrite = Object.keys(secrets).length > 0 ? await writeEnvFile(options.envFile, secrets) : undefined;

  const notes: string[] = [];
  if ('untested' in destination.summary) {
    notes.push(
      `${describeUntested(destination.summary)} did not answer, so nothing about it was tested: traces wait in the local store until it does; run \`${commandLine('doctor')}\` then`,
    );
  }
  if (envWrite && (await gitIgnoreStatus(options.envFile, options.env)) === 'not-ignored') {
    const shown = relative(options.cwd, options.envFile) || options.envFile;
    notes.push(`${shown} holds secrets but git does not ignore it: add it to .gitignore before your next commit`);
  }
  const seen = await noticeWhatHidesSetup({
    cwd: options.cwd,
    homeDir: options.homeDir,
    env: options.env,
    configFile: options.configFile,
    fileValues: file,
    ...(envWrite && { envFile: { path: options.envFile, names: Object.keys(secrets) } }),
  });
  notes.push(...seen.notes);
  return {
    destination: destination.summary,
    ...(experiment && {
      experiment: { id: experiment.experiment.experimentId, name: experiment.experiment.name, action: experiment.action },
    }),
    llm: { provider: llm.provider, ...(llm.model !== undefined && { model: llm.model }) },
    configFile: { path: options.configFile, keys: Object.keys(file), settings: configFileSettings(file) },
    ...(envWrite && { envFile: { path: options.envFile, keys: Object.keys(secrets), created: envWrite.created } }),
    ...(seen.storeDir !== undefined && { storeDir: seen.storeDir }),
    notes,
  };
}

function describeUntested(summary: DestinationSummary): string {
  switch (summary.kind) {
    case 'mlflow':
      return `MLflow at ${summary.trackingUri}`;
    case 'databricks':
      return `The Databricks workspace ${summary.host}`;
    case 'collector':
      return `The collector at ${summary.endpoint}`;
    case 'local':
      return 'The local store';
  }
}

/** Where traces go, asked again (without the flags that answered for the old choice) when the person goes back. */
async function chooseDestination(
  session: InitSession,
  given: InitAnswers,
): Promise<{ destinationChoice: DestinationChoice; destination: DestinationSetup }> {
  let answers = given;
  let last: DestinationChoice | undefined;
  for (;;) {
    const destinationChoice = answers.destination ?? (await askDestination(session, last));
    try {
      return { destinationChoice, destination: await setupDestination(session, destinationChoice, answers) };
    } catch (error) {
      if (!(error instanceof GoBack)) throw error;
      const {
        destination: _destination,
        trackingUri: _uri,
        profile: _profile,
        databricksHost: _host,
        databricksToken: _token,
        otlpEndpoint: _endpoint,
        ...rest
      } = answers;
      answers = rest;
      last = destinationChoice;
    }
  }
}

/** JSON (and YAML, which reads JSON) only: code config files are the user's to write. */
const CODE_CONFIG = /\.[cm]?[jt]s$/;

/** Whether an existing config file may be replaced: --force, or the person's yes; checked before any question. */
async function mayReplaceConfigFile(options: InitOptions): Promise<boolean> {
  if (CODE_CONFIG.test(options.configFile)) {
    throw new ExpectedError(`init writes JSON, not code: ${options.configFile}`, {
      exitCode: ExitCode.usage,
      hint: 'pass --config-file with a .json name, e.g. .otel-mlflowrc.json',
    });
  }
  const exists = await stat(options.configFile).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw error;
    },
  );
  if (!exists || options.force) return exists;
  const shown = relative(options.cwd, options.configFile) || options.configFile;
  if (!options.prompter) throw configFileExists(shown);
  if (await options.prompter.confirm({ message: `${shown} already exists. Replace it?`, default: false })) return true;
  throw new ConfigFileKept(options.configFile);
}

/** The person chose to keep the config file they have: an answer, not a failure. Nothing is written. */
export class ConfigFileKept extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`${path} was kept as it is; nothing was written`);
    this.name = 'ConfigFileKept';
    this.path = path;
  }
}
