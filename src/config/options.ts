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
import type { ConfigPurpose, FlagValues } from './types.ts';

/** The samplers of the OpenTelemetry SDK environment specification that make sense for one process. */
export const TRACES_SAMPLERS = [
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

interface OptionSpecBase<T> {
  /** The flag in FlagValues, rendered as `--kebab-case`. */
  flag?: Exclude<keyof FlagValues, 'config'>;
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
  trackingUri: scalar({ flag: 'trackingUri', env: ['MLFLOW_TRACKING_URI'], file: 'trackingUri', parse: parseTrackingUri }),
  ucTable: scalar({ flag: 'ucTable', env: ['OTEL_MLFLOW_UC_TABLE'], file: 'ucTable', parse: parseUcTable }),
  otlpEndpoint: scalar({
    env: ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', parse: parseOtlpBaseEndpoint }],
    file: 'otlpEndpoint',
    parse: parseHttpUrl,
  }),
  otlpHeaders: record({ env: ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS'], secret: true }),
  databricksProfile: scalar({ flag: 'profile', env: ['DATABRICKS_CONFIG_PROFILE'], file: 'databricksProfile', parse: parseText }),
  databricksConfigFile: scalar({ env: ['DATABRICKS_CONFIG_FILE'], parse: parseText }),
  databricksHost: scalar({ env: ['DATABRICKS_HOST'], file: 'databricksHost', databricksCfg: 'host', parse: parseDatabricksHost }),
  databricksToken: scalar({ env: ['DATABRICKS_TOKEN'], databricksCfg: 'token', secret: true, parse: parseText }),
  databricksClientId: scalar({ env: ['DATABRICKS_CLIENT_ID'], databricksCfg: 'client_id', parse: parseText }),
  databricksClientSecret: scalar({ env: ['DATABRICKS_CLIENT_SECRET'], databricksCfg: 'client_secret', secret: true, parse: parseText }),
  mlflowUsername: scalar({ env: ['MLFLOW_TRACKING_USERNAME'], parse: parseText }),
  mlflowPassword: scalar({ env: ['MLFLOW_TRACKING_PASSWORD'], secret: true, parse: parseText }),
  mlflowToken: scalar({ env: ['MLFLOW_TRACKING_TOKEN'], secret: true, parse: parseText }),
  experimentId: scalar({ flag: 'experimentId', env: ['MLFLOW_EXPERIMENT_ID'], file: 'experimentId', parse: parseExperimentId }),
  experimentName: scalar({
    flag: 'experiment',
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
    flag: 'exportPath',
    env: ['OTEL_MLFLOW_EXPORT_PATH'],
    file: 'exportPath',
    parse: oneOf(['auto', 'otlp', 'rest']),
    default: () => 'auto' as const,
  }),
  otlpEncoding: scalar({
    flag: 'otlpEncoding',
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
  runId: scalar({ flag: 'runId', env: ['MLFLOW_RUN_ID'], parse: parseRunId }),
  serviceName: scalar({ env: ['OTEL_SERVICE_NAME'], file: 'serviceName', parse: parseText, default: () => 'otel-mlflow' }),
  resourceAttributes: record({ env: ['OTEL_RESOURCE_ATTRIBUTES'], file: 'resourceAttributes' }),
  openaiApiKey: scalar({ env: ['OPENAI_API_KEY'], secret: true, parse: parseText }),
  openaiBaseUrl: scalar({ env: ['OPENAI_BASE_URL'], file: 'openaiBaseUrl', parse: parseHttpUrl }),
  storeDir: scalar({ flag: 'storeDir', env: ['OTEL_MLFLOW_STORE_DIR'], file: 'storeDir', parse: parseText }),
  storeMaxMb: scalar({ env: ['OTEL_MLFLOW_STORE_MAX_MB'], file: 'storeMaxMb', parse: parseMegabytes, default: () => 2048 }),
  sdkDisabled: scalar({ env: ['OTEL_SDK_DISABLED'], parse: parseBoolean, default: () => false }),
  tracesSampler: scalar({
    env: ['OTEL_TRACES_SAMPLER'],
    parse: oneOf(TRACES_SAMPLERS),
    default: () => 'parentbased_always_on' as const,
  }),
  tracesSamplerArg: scalar({ env: ['OTEL_TRACES_SAMPLER_ARG'], parse: parseRatio }),
  authToken: scalar({ flag: 'authToken', env: ['OTEL_MLFLOW_AUTH_TOKEN'], secret: true, parse: parseText }),
  corsOrigins: scalar({ flag: 'corsOrigin', env: ['OTEL_MLFLOW_CORS_ORIGINS'], file: 'corsOrigins', parse: parseOriginList }),
  // service.name → experiment name, for the relay: `checkout=shop-traces,search=search-traces`.
  relayExperiments: record({ env: ['OTEL_MLFLOW_RELAY_EXPERIMENTS'], file: 'relayExperiments' }),
  llmProvider: scalar({
    flag: 'provider',
    env: ['OTEL_MLFLOW_LLM_PROVIDER'],
    file: 'llmProvider',
    parse: oneOf(['openai', 'databricks', 'offline']),
  }),
  llmModel: scalar({ flag: 'model', env: ['OTEL_MLFLOW_LLM_MODEL'], file: 'llmModel', parse: parseText }),
  captureContent: scalar({
    flag: 'captureContent',
    env: ['OTEL_MLFLOW_CAPTURE_CONTENT', 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT'],
    file: 'captureContent',
    parse: parseBoolean,
    // MLflow's Traces view is useless without message content.
    default: () => true,
  }),
};

export type OptionKey = keyof typeof CONFIG_OPTIONS;

/** What an option parses to. */
export type OptionValue<K extends OptionKey> = (typeof CONFIG_OPTIONS)[K] extends ScalarOptionSpec<infer T>
  ? T
  : Record<string, string>;

// Every flag the CLI passes to the loader must feed an option (`config` picks the file itself).
type UnmappedFlags = Exclude<keyof FlagValues, 'config' | NonNullable<(typeof CONFIG_OPTIONS)[OptionKey]['flag']>>;
const everyFlagMapped: [UnmappedFlags] extends [never] ? true : UnmappedFlags = true;
void everyFlagMapped;

export const OPTION_KEYS = Object.keys(CONFIG_OPTIONS) as OptionKey[];

export function envVarsFor(spec: OptionSpec, purpose: ConfigPurpose): EnvVarSpec<unknown>[] {
  return spec.env
    .map((entry) => (typeof entry === 'string' ? { name: entry } : entry))
    .filter((entry) => entry.purpose === undefined || entry.purpose === purpose);
}

/** `experimentId` → `--experiment-id`. */
export function flagName(flag: keyof FlagValues): string {
  return `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

type ScalarInput<T, F extends OptionSpecBase<T>['flag']> = Omit<OptionSpecBase<T>, 'secret' | 'flag'> & { secret?: boolean; flag?: F };

function scalar<T, const F extends OptionSpecBase<T>['flag'] = undefined>(
  spec: ScalarInput<T, F>,
): ScalarOptionSpec<T> & { flag: F } {
  return { kind: 'scalar', secret: false, ...spec } as ScalarOptionSpec<T> & { flag: F };
}

function record(spec: { env: readonly string[]; file?: string; secret?: boolean }): RecordOptionSpec & { flag: undefined } {
  return { kind: 'record', secret: false, parse: parseKeyValueList, flag: undefined, ...spec };
}

/** The variable people know an option by, for messages about a value that is missing. */
export function primaryEnvName(key: OptionKey): string {
  const [first] = envVarsFor(CONFIG_OPTIONS[key], 'doctor');
  return first?.name ?? key;
}
