import {
  oneOf,
  parseBoolean,
  parseDatabricksHost,
  parseExperimentId,
  parseHttpUrl,
  parseKeyValueList,
  parseOtlpBaseEndpoint,
  parseOriginList,
  parseOtlpProtocol,
  parseMegabytes,
  parseRatio,
  parseRunId,
  parseText,
  parseUcTable,
  type Parse,
} from './parse-values.ts';
import { parseTrackingUri } from './tracking-uri.ts';

/** Which command is asking: the old demo kept one experiment for doctor and one for the app. */
export type ConfigPurpose = 'doctor' | 'app';

/** The samplers of the OpenTelemetry SDK environment specification that make sense for one process. */
const TRACES_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TracesSampler = (typeof TRACES_SAMPLERS)[number];

/** An environment variable that feeds an option; some speak another vocabulary and parse differently. */
export interface EnvVarSpec<T> {
  name: string;
  /** Only read when loading for this purpose (the old demo kept one experiment per script). */
  purpose?: ConfigPurpose;
  parse?: Parse<T>;
}

/**
 * How an option is given on the command line: `--kebab-case` of its name. Which commands take it is
 * said where they are declared (src/cli/global-options.ts and each command's option table).
 */
type ConfigFlag =
  | {
      name: string;
      /** The value as --help shows it: `<uri>`. */
      argument: string;
      description: string;
      /** Given more than once (`--cors-origin a --cors-origin b`), the values are joined with commas. */
      repeatable?: true;
    }
  /** `--no-<name>`: the command line can only turn the option off. */
  | { name: string; negate: true; description: string };

interface OptionSpecBase<T> {
  flag?: ConfigFlag;
  /** Environment variables (process env first, then .env, per name), highest priority first. */
  env: readonly (string | EnvVarSpec<T>)[];
  /** Key in the config file. Secrets have none: config files get committed. */
  file?: string;
  /** Key in the selected ~/.databrickscfg profile. */
  databricksCfg?: string;
  secret: boolean;
  parse: Parse<T>;
  default?: (purpose: ConfigPurpose) => NoInfer<T>;
}

/** One value, taken from the highest-priority source that sets it. */
export interface ScalarOptionSpec<T> extends OptionSpecBase<T> {
  kind: 'scalar';
}

/** A key/value map merged over all sources, each key from the highest-priority source that sets it. */
export interface RecordOptionSpec extends OptionSpecBase<Record<string, string>> {
  kind: 'record';
}

export type OptionSpec = ScalarOptionSpec<unknown> | RecordOptionSpec;

/**
 * Every configurable value, once: the loader, masking and `otel-mlflow config` are driven by this
 * table, so a flag, its environment variables and its config-file key cannot drift apart.
 * Order is display order.
 */
export const CONFIG_OPTIONS = {
  trackingUri: scalar({
    flag: { name: 'trackingUri', argument: '<uri>', description: 'MLflow tracking URI (http(s)://…, databricks, databricks://<profile>)' },
    env: ['MLFLOW_TRACKING_URI'],
    file: 'trackingUri',
    parse: parseTrackingUri,
  }),
  ucTable: scalar({
    flag: { name: 'ucTable', argument: '<table>', description: 'Databricks Unity Catalog table <catalog>.<schema>.<prefix>_otel_spans' },
    env: ['OTEL_MLFLOW_UC_TABLE'],
    file: 'ucTable',
    parse: parseUcTable,
  }),
  otlpEndpoint: scalar({
    env: ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', parse: parseOtlpBaseEndpoint }],
    file: 'otlpEndpoint',
    parse: parseHttpUrl,
  }),
  otlpHeaders: record({ env: ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'], secret: true }),
  databricksProfile: scalar({
    flag: { name: 'profile', argument: '<name>', description: 'profile in ~/.databrickscfg' },
    env: ['DATABRICKS_CONFIG_PROFILE'],
    file: 'databricksProfile',
    parse: parseText,
  }),
  databricksConfigFile: scalar({ env: ['DATABRICKS_CONFIG_FILE'], parse: parseText }),
  databricksHost: scalar({ env: ['DATABRICKS_HOST'], file: 'databricksHost', databricksCfg: 'host', parse: parseDatabricksHost }),
  databricksToken: scalar({ env: ['DATABRICKS_TOKEN'], databricksCfg: 'token', secret: true, parse: parseText }),
  databricksClientId: scalar({ env: ['DATABRICKS_CLIENT_ID'], databricksCfg: 'client_id', parse: parseText }),
  databricksClientSecret: scalar({ env: ['DATABRICKS_CLIENT_SECRET'], databricksCfg: 'client_secret', secret: true, parse: parseText }),
  mlflowUsername: scalar({ env: ['MLFLOW_TRACKING_USERNAME'], parse: parseText }),
  mlflowPassword: scalar({ env: ['MLFLOW_TRACKING_PASSWORD'], secret: true, parse: parseText }),
  mlflowToken: scalar({ env: ['MLFLOW_TRACKING_TOKEN'], secret: true, parse: parseText }),
  experimentId: scalar({
    flag: { name: 'experimentId', argument: '<id>', description: 'experiment id (wins over --experiment)' },
    env: ['MLFLOW_EXPERIMENT_ID'],
    file: 'experimentId',
    parse: parseExperimentId,
  }),
  experimentName: scalar({
    flag: { name: 'experiment', argument: '<name>', description: 'experiment name' },
    env: [
      { name: 'MLFLOW_EXPERIMENT_NAME_BASIC', purpose: 'doctor' },
      { name: 'MLFLOW_EXPERIMENT_NAME_OTEL', purpose: 'app' },
      'MLFLOW_EXPERIMENT_NAME',
    ],
    file: 'experimentName',
    parse: parseText,
    default: (purpose) => (purpose === 'doctor' ? 'otel-mlflow-doctor' : 'otel-mlflow'),
  }),
  exportPath: scalar({
    flag: { name: 'exportPath', argument: '<path>', description: 'how traces reach MLflow' },
    env: ['OTEL_MLFLOW_EXPORT_PATH'],
    file: 'exportPath',
    parse: oneOf(['auto', 'otlp', 'rest']),
    default: () => 'auto' as const,
  }),
  otlpEncoding: scalar({
    flag: { name: 'otlpEncoding', argument: '<encoding>', description: 'OTLP body encoding' },
    env: [
      'OTEL_MLFLOW_OTLP_ENCODING',
      { name: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', parse: parseOtlpProtocol },
      { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', parse: parseOtlpProtocol },
    ],
    file: 'otlpEncoding',
    parse: oneOf(['protobuf', 'json']),
    default: () => 'protobuf' as const,
  }),
  // No config-file key: a run is one invocation's, not the project's.
  runId: scalar({
    flag: { name: 'runId', argument: '<id>', description: 'link the traces to this MLflow run (or MLFLOW_RUN_ID)' },
    env: ['MLFLOW_RUN_ID'],
    parse: parseRunId,
  }),
  serviceName: scalar({ env: ['OTEL_SERVICE_NAME'], file: 'serviceName', parse: parseText, default: () => 'otel-mlflow' }),
  resourceAttributes: record({ env: ['OTEL_RESOURCE_ATTRIBUTES'], file: 'resourceAttributes' }),
  openaiApiKey: scalar({ env: ['OPENAI_API_KEY'], secret: true, parse: parseText }),
  openaiBaseUrl: scalar({ env: ['OPENAI_BASE_URL'], file: 'openaiBaseUrl', parse: parseHttpUrl }),
  anthropicApiKey: scalar({ env: ['ANTHROPIC_API_KEY'], secret: true, parse: parseText }),
  anthropicBaseUrl: scalar({ env: ['ANTHROPIC_BASE_URL'], file: 'anthropicBaseUrl', parse: parseHttpUrl }),
  storeDir: scalar({
    flag: {
      name: 'storeDir',
      argument: '<dir>',
      description: 'the trace store every trace is written to first (or OTEL_MLFLOW_STORE_DIR)',
    },
    env: ['OTEL_MLFLOW_STORE_DIR'],
    file: 'storeDir',
    parse: parseText,
  }),
  storeMaxMb: scalar({ env: ['OTEL_MLFLOW_STORE_MAX_MB'], file: 'storeMaxMb', parse: parseMegabytes, default: () => 2048 }),
  sdkDisabled: scalar({ env: ['OTEL_SDK_DISABLED'], parse: parseBoolean, default: () => false }),
  tracesSampler: scalar({
    env: ['OTEL_TRACES_SAMPLER'],
    parse: oneOf(TRACES_SAMPLERS),
    default: () => 'parentbased_always_on' as const,
  }),
  tracesSamplerArg: scalar({ env: ['OTEL_TRACES_SAMPLER_ARG'], parse: parseRatio }),
  authToken: scalar({
    // As `serve` takes it; the relay and `suite` say what it is to them where they take it.
    flag: {
      name: 'authToken',
      argument: '<token>',
      description:
        'require `Authorization: Bearer <token>` on every route but GET / and the API docs; `-` reads it from stdin (or OTEL_MLFLOW_AUTH_TOKEN)',
    },
    env: ['OTEL_MLFLOW_AUTH_TOKEN'],
    secret: true,
    parse: parseText,
  }),
  corsOrigins: scalar({
    flag: {
      name: 'corsOrigin',
      argument: '<origin>',
      description: 'allow browser requests from this origin (repeat, or comma-separate; or OTEL_MLFLOW_CORS_ORIGINS)',
      repeatable: true,
    },
    env: ['OTEL_MLFLOW_CORS_ORIGINS'],
    file: 'corsOrigins',
    parse: parseOriginList,
  }),
  // service.name → experiment name, for the relay: `checkout=shop-traces,search=search-traces`.
  relayExperiments: record({ env: ['OTEL_MLFLOW_RELAY_EXPERIMENTS'], file: 'relayExperiments' }),
  llmProvider: scalar({
    flag: {
      name: 'provider',
      argument: '<provider>',
      description: 'LLM provider (default: openai with OPENAI_API_KEY, anthropic with ANTHROPIC_API_KEY, else offline)',
    },
    env: ['OTEL_MLFLOW_LLM_PROVIDER'],
    file: 'llmProvider',
    parse: oneOf(['openai', 'anthropic', 'databricks', 'offline']),
  }),
  llmModel: scalar({
    flag: { name: 'model', argument: '<model>', description: 'model or Databricks serving endpoint name' },
    env: ['OTEL_MLFLOW_LLM_MODEL'],
    file: 'llmModel',
    parse: parseText,
  }),
  captureContent: scalar({
    flag: { name: 'captureContent', negate: true, description: 'do not record message content on LLM spans' },
    env: ['OTEL_MLFLOW_CAPTURE_CONTENT', 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT'],
    file: 'captureContent',
    parse: parseBoolean,
    // MLflow's Traces view is useless without message content.
    default: () => true,
  }),
};

export type OptionKey = keyof typeof CONFIG_OPTIONS;

/** What an option parses to. */
export type OptionValue<K extends OptionKey> = (typeof CONFIG_OPTIONS)[K] extends ScalarOptionSpec<infer T> ? T : Record<string, string>;

export const OPTION_KEYS = Object.keys(CONFIG_OPTIONS) as OptionKey[];

/** The options that can be given on the command line. */
export type FlaggedOptionKey = { [K in OptionKey]: (typeof CONFIG_OPTIONS)[K]['flag'] extends ConfigFlag ? K : never }[OptionKey];

export function hasFlag(key: OptionKey): key is FlaggedOptionKey {
  return CONFIG_OPTIONS[key].flag !== undefined;
}

/**
 * Values given on the command line, by flag, as given (`--no-capture-content` as 'false'): the
 * loader parses them as it parses every other source. `config` picks the config file itself.
 */
export type FlagValues = { config?: string } & {
  [K in FlaggedOptionKey as (typeof CONFIG_OPTIONS)[K]['flag']['name']]?: string;
};

/** What the command line says for an option, if anything. */
export function flagValue(flags: FlagValues, key: OptionKey): { flag: string; value: string } | undefined {
  const { flag } = CONFIG_OPTIONS[key];
  const value = flag && flags[flag.name];
  return flag && value !== undefined ? { flag: flagName(flag.name), value } : undefined;
}

export function envVarsFor(spec: OptionSpec, purpose: ConfigPurpose): EnvVarSpec<unknown>[] {
  return spec.env
    .map((entry) => (typeof entry === 'string' ? { name: entry } : entry))
    .filter((entry) => entry.purpose === undefined || entry.purpose === purpose);
}

/** `experimentId` → `--experiment-id`, as commander names a flag's value in return. */
export function flagName(name: string): string {
  return `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

type ScalarInput<T, F extends ConfigFlag | undefined, P> = Omit<OptionSpecBase<T>, 'secret' | 'flag' | 'parse'> & {
  secret?: boolean;
  flag?: F;
  parse: P;
};

type ParsedBy<P> = P extends Parse<infer T> ? T : never;

/** Keeps the flag and the parser as declared: the command line reads a flag's name and choices from them. */
function scalar<P extends Parse<unknown>, const F extends ConfigFlag | undefined = undefined>(
  spec: ScalarInput<ParsedBy<P>, F, P>,
): ScalarOptionSpec<ParsedBy<P>> & { flag: F; parse: P } {
  return { kind: 'scalar', secret: false, ...spec } as ScalarOptionSpec<ParsedBy<P>> & { flag: F; parse: P };
}

function record(spec: { env: readonly string[]; file?: string; secret?: boolean }): RecordOptionSpec & { flag: undefined } {
  return { kind: 'record', secret: false, parse: parseKeyValueList, flag: undefined, ...spec };
}

/** The variable people know an option by, for messages about a value that is missing. */
export function primaryEnvName(key: OptionKey): string {
  const [first] = envVarsFor(CONFIG_OPTIONS[key], 'doctor');
  return first?.name ?? key;
}
