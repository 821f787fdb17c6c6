import { join, resolve } from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.ts';
import { readConfigFile, type ConfigFile } from './config-file.ts';
import { noticesFor } from './config-notices.ts';
import { chooseProfile, loadProfile } from './databricks-profile.ts';
import { readDotenv } from './dotenv.ts';
import { credentialsIn } from './environment-credentials.ts';
import { rememberSecrets, secretsOf } from './configured-secrets.ts';
import { describeSource } from './mask.ts';
import { CONFIG_OPTIONS, OPTION_KEYS, primaryEnvName, type OptionKey, type OptionValue } from './options.ts';
import { resolveAuth } from './resolve-auth.ts';
import { destinationKind, isDatabricks, resolveDestination, sourced, type DestinationKind } from './resolve-destination.ts';
import { resolveExperiment } from './resolve-experiment.ts';
import { resolveOptions, type Layers, type Resolution, type ResolvedOptions } from './resolve-options.ts';
import type { AuthSettings, ConfigEntry, Destination, LoadConfigOptions, ResolvedConfig, Source, Sourced } from './types.ts';

const PROFILE_KEYS = OPTION_KEYS.filter((key) => CONFIG_OPTIONS[key].databricksCfg !== undefined);
const OTHER_KEYS = OPTION_KEYS.filter((key) => CONFIG_OPTIONS[key].databricksCfg === undefined);

/**
 * The one config every command shares: flags > environment > .env > config file > ~/.databrickscfg >
 * defaults, each value with its source. Throws one ConfigError listing every problem found.
 */
export async function loadConfig(options: LoadConfigOptions): Promise<ResolvedConfig> {
  const inspection = await inspectConfig(options);
  if (!inspection.config) throw new ConfigError(inspection.problems);
  return inspection.config;
}

/**
 * A collector's endpoint given for gRPC (its port 4317): the tool sends OTLP/HTTP only, which that port
 * cannot read. Only where the protocol decides the encoding: a flag or OTEL_MLFLOW_OTLP_ENCODING says
 * the user chose the tool's encoding apart from the programs' protocol.
 */
function collectorProtocolProblems(values: ResolvedOptions, layers: Layers): ConfigProblem[] {
  const source = values.otlpEncoding?.source;
  if (source?.kind !== 'env' && source?.kind !== 'dotenv') return [];
  const text = source.kind === 'env' ? layers.env[source.name] : layers.dotenv?.values.get(source.name);
  if (text !== 'grpc') return [];
  // The endpoint may be there for the user's other programs, beside the MLflow server meant for these traces.
  const orMlflow = values.trackingUri ? `, or pass --tracking-uri ${values.trackingUri.value} to send to MLflow instead` : '';
  return [
    {
      message: `${source.name} is grpc, which otel-mlflow cannot send to a collector; use http/protobuf and the HTTP port of your collector (usually 4318)${orMlflow}`,
      source: describeSource(source),
    },
  ];
}

/** What the loader made of the configuration, also when it is invalid: every value that did resolve. */
export interface ConfigInspection {
  /** Absent when there are problems. */
  config?: ResolvedConfig;
  problems: ConfigProblem[];
  entries: ConfigEntry[];
  files: ResolvedConfig['files'];
}

export async function inspectConfig(options: LoadConfigOptions): Promise<ConfigInspection> {
  const { cwd, env, homeDir, flags, purpose } = options;
  const [dotenv, configFile] = await Promise.all([
    readDotenv(cwd, env),
    readConfigFile(cwd, flags.config === undefined ? undefined : { path: flags.config, source: 'flag --config' }),
  ]);
  const problems: ConfigProblem[] = [
    ...(dotenv?.badLines ?? []).map((line) => ({
      message: `.env (${dotenv!.path}) line ${line} could not be parsed (python-dotenv would skip it); check its quotes and the KEY=value form`,
    })),
    ...configFile.problems,
    ...(configFile.file ? checkFileKeys(configFile.file) : []),
  ];
  const layers: Layers = { flags, env, purpose, ...(dotenv && { dotenv }), ...(configFile.file && { file: configFile.file }) };
  const { values, empty, kind, profile, profileName, profileFile, problems: valueProblems } = await resolveValues(layers, { cwd, homeDir });

  const { destination, problems: destinationProblems } = resolveDestination(kind, values, empty, profile, profileName);
  if (kind === 'collector') destinationProblems.push(...collectorProtocolProblems(values, layers));
  const { auth, problems: authProblems } = resolveAuth(kind, values, empty, profileName);
  const experimentName = defaulted(values, 'experimentName');
  const { experiment, problems: experimentProblems } = resolveExperiment(values.experimentId, experimentName, kind, purpose);
  const serving = servingWorkspace(kind, destination, auth, values, empty, profileName);
  problems.push(...valueProblems, ...destinationProblems, ...authProblems, ...experimentProblems);
  const files = {
    ...(dotenv && { dotenv: dotenv.path }),
    ...(configFile.file && { configFile: configFile.file.path }),
    ...(profileFile && { databricksCfg: profileFile }),
  };
  // Before anything can print or record text that holds one: an invalid configuration's secrets too.
  rememberSecrets([...secretsOf(toEntries(values), auth), ...credentialsIn(Object.entries(env), dotenv?.values ?? [])]);
  if (problems.length > 0) return { problems, entries: toEntries(values), files };

  // Listed only when used: a default name is noise next to the id that wins over it.
  if (experiment.kind === 'id' && experimentName.source.kind === 'default') delete values.experimentName;
  const resourceAttributes = values.resourceAttributes ?? { value: {}, source: { kind: 'default' } };
  values.serviceName = serviceName(defaulted(values, 'serviceName'), resourceAttributes);
  const config: ResolvedConfig = {
    destination,
    auth,
    experiment,
    exportPath: sourced(defaulted(values, 'exportPath')),
    otlpEncoding: sourced(defaulted(values, 'otlpEncoding')),
    ...(values.runId && { runId: sourced(values.runId) }),
    serviceName: sourced(values.serviceName),
    resourceAttributes: sourced(resourceAttributes),
    openai: {
      ...(values.openaiApiKey && { apiKey: sourced(values.openaiApiKey) }),
      ...(values.openaiBaseUrl && { baseUrl: sourced(values.openaiBaseUrl) }),
    },
    ...((values.anthropicApiKey || values.anthropicBaseUrl) && {
      anthropic: {
        ...(values.anthropicApiKey && { apiKey: sourced(values.anthropicApiKey) }),
        ...(values.anthropicBaseUrl && { baseUrl: sourced(values.anthropicBaseUrl) }),
      },
    }),
    storeDir: storeDir(values.storeDir, env, homeDir, cwd),
    storeMaxBytes: megabytesToBytes(sourced(defaulted(values, 'storeMaxMb'))),
    tracing: {
      disabled: sourced(defaulted(values, 'sdkDisabled')),
      sampler: sourced(defaulted(values, 'tracesSampler')),
      ...(values.tracesSamplerArg && { samplerArg: sourced(values.tracesSamplerArg) }),
    },
    ...(values.authToken && { authToken: sourced(values.authToken) }),
    ...(values.corsOrigins && { corsOrigins: sourced(values.corsOrigins) }),
    relayExperiments: sourced(values.relayExperiments ?? { value: {}, source: { kind: 'default' } }),
    llm: {
      ...(values.llmProvider && { provider: sourced(values.llmProvider) }),
      ...(values.llmModel && { model: sourced(values.llmModel) }),
      captureContent: sourced(defaulted(values, 'captureContent')),
      ...(serving && { databricks: serving }),
    },
    files,
    entries: toEntries(values),
    notices: noticesFor(destination, values, serving),
  };
  return { config, problems, entries: config.entries, files };
}

/**
 * The workspace whose serving endpoints answer for the databricks LLM provider: the destination's
 * when traces go to Databricks, else DATABRICKS_HOST and its credential on their own, so where
 * traces go never decides which model can answer. Undefined for other providers.
 */
function servingWorkspace(
  kind: DestinationKind,
  destination: Destination,
  auth: AuthSettings,
  values: ResolvedOptions,
  empty: Partial<Record<OptionKey, Source>>,
  profileName: string,
): ResolvedConfig['llm']['databricks'] {
  if (values.llmProvider?.value !== 'databricks') return undefined;
  if (destination.kind === 'databricks' || destination.kind === 'unity-catalog') return { host: destination.host, auth };
  // A Databricks destination that did not resolve has said why already, and there is no config.
  if (isDatabricks(kind)) return undefined;
  const own = resolveAuth('databricks', values, empty, profileName);
  const host = values.databricksHost && sourced(values.databricksHost);
  const problems = [
    ...(host
      ? []
      : [
          {
            message:
              `the databricks LLM provider (from ${describeSource(values.llmProvider.source)}) needs the workspace that serves the model: ` +
              `set DATABRICKS_HOST=https://<workspace>.cloud.databricks.com, or add host to profile [${profileName}] in ~/.databrickscfg`,
          },
        ]),
    ...own.problems,
  ];
  return host && problems.length === 0 ? { host, auth: own.auth } : { problems };
}

/**
 * Every option's value, the destination kind they add up to, and the Databricks profile if one was
 * used. Two passes because the profile is chosen by values no profile can set (the tracking URI and
 * the profile options).
 */
async function resolveValues(layers: Layers, dirs: { cwd: string; homeDir: string }) {
  const first = resolveOptions(OTHER_KEYS, layers);
  const choice = chooseProfile(first.values.databricksProfile, first.values.trackingUri);
  const loaded = await loadProfile(choice, first.values.databricksConfigFile, dirs);
  const second = resolveOptions(PROFILE_KEYS, { ...layers, ...(loaded.layer && { databricksCfg: loaded.layer }) });
  const values: ResolvedOptions = { ...first.values, ...second.values };
  const kind = destinationKind(values);
  // The profile speaks for Databricks traces, and for a Databricks model wherever traces go.
  const databricks = isDatabricks(kind) || first.values.llmProvider?.value === 'databricks';
  let optionProblems = [...first.problems, ...second.problems];
  if (!databricks) {
    // Elsewhere a profile is not used, right or wrong.
    for (const key of PROFILE_KEYS) if (values[key]?.source.kind === 'databrickscfg') delete values[key];
    optionProblems = optionProblems.filter((p) => p.source.kind !== 'databrickscfg');
  }
  const problems: ConfigProblem[] = [
    ...optionProblems.map((p) => ({ message: p.message, source: describeSource(p.source) })),
    ...(databricks || choice.explicit ? loaded.problems : []),
  ];

  const profile: Sourced<string> | undefined = databricks && loaded.layer ? { value: choice.name, source: choice.source } : undefined;
  if (profile) values.databricksProfile ??= profile;
  return {
    values,
    empty: { ...first.empty, ...second.empty },
    kind,
    profile,
    profileName: choice.name,
    profileFile: profile && loaded.path,
    problems,
  };
}

/** The local trace store: as configured, else under the XDG state directory. */
function storeDir(
  configured: Resolution<string> | undefined,
  env: LoadConfigOptions['env'],
  homeDir: string,
  cwd: string,
): Sourced<string> {
  if (configured) {
    const value = configured.value.startsWith('~/') ? join(homeDir, configured.value.slice(2)) : resolve(cwd, configured.value);
    return { value, source: configured.source };
  }
  const stateHome = env.XDG_STATE_HOME ? env.XDG_STATE_HOME : join(homeDir, '.local', 'state');
  return {
    value: join(stateHome, 'otel-mlflow', 'traces'),
    source: env.XDG_STATE_HOME ? { kind: 'env', name: 'XDG_STATE_HOME' } : { kind: 'default' },
  };
}

/** OTEL_SERVICE_NAME, then service.name in OTEL_RESOURCE_ATTRIBUTES, then our default (OTel spec). */
function serviceName(name: Resolution<string>, attributes: Resolution<Record<string, string>>): Resolution<string> {
  const fromAttributes = attributes.value['service.name'];
  if (name.source.kind !== 'default' || fromAttributes === undefined) return name;
  return { value: fromAttributes, source: attributes.keySources?.['service.name'] ?? attributes.source };
}

function megabytesToBytes({ value, source }: Sourced<number>): Sourced<number> {
  return { value: value * 1024 ** 2, source };
}

function defaulted<K extends OptionKey>(values: ResolvedOptions, key: K): Resolution<OptionValue<K>> {
  const resolution = values[key];
  if (!resolution) throw new Error(`config option ${key} has no default`);
  return resolution as Resolution<OptionValue<K>>;
}

/** Table order; a map option becomes one entry per key, so each can say where it came from. */
function toEntries(values: ResolvedOptions): ConfigEntry[] {
  return OPTION_KEYS.flatMap((key): ConfigEntry[] => {
    const resolution = values[key] as Resolution<unknown> | undefined;
    if (!resolution) return [];
    const { secret } = CONFIG_OPTIONS[key];
    if (resolution.keySources) {
      return Object.entries(resolution.value as Record<string, string>).map(([k, value]) => ({
        key: `${key}.${k}`,
        value,
        source: resolution.keySources![k] ?? resolution.source,
        secret,
      }));
    }
    return [{ key, value: String(resolution.value), source: resolution.source, secret }];
  });
}

/** Unknown keys are typos until proven otherwise; secrets are refused because config files get committed. */
function checkFileKeys(file: ConfigFile): ConfigProblem[] {
  const known = OPTION_KEYS.flatMap((key) => CONFIG_OPTIONS[key].file ?? []);
  return Object.keys(file.values).flatMap((key): ConfigProblem[] => {
    if (known.includes(key)) return [];
    const source = `config file ${file.path}`;
    if (Object.hasOwn(CONFIG_OPTIONS, key) && CONFIG_OPTIONS[key as OptionKey].secret) {
      const variable = primaryEnvName(key as OptionKey);
      return [
        {
          message: `${file.keyPrefix}${key} cannot be set in a config file (config files get committed); set ${variable} in the environment or .env`,
          source,
        },
      ];
    }
    return [{ message: `unknown key ${file.keyPrefix}${key}; known keys: ${known.join(', ')}`, source }];
  });
}
