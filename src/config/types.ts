import type { ConfigProblem } from '../errors.ts';
import type { ConfigPurpose, FlagValues, TracesSampler } from './options.ts';

/** Where a resolved value came from, so `otel-mlflow config` and error messages can say so. */
export type Source =
  | { kind: 'flag'; name: string }
  | { kind: 'env'; name: string }
  | { kind: 'dotenv'; path: string; name: string }
  | { kind: 'file'; path: string; key: string }
  | { kind: 'databrickscfg'; path: string; profile: string; key: string }
  | { kind: 'default' }
  | { kind: 'derived'; from: string };

export interface Sourced<T> {
  value: T;
  source: Source;
}

type ExportPath = 'auto' | 'otlp' | 'rest';
export type LlmProviderName = 'openai' | 'anthropic' | 'databricks' | 'offline';
export type OtlpEncoding = 'protobuf' | 'json';

export type Destination =
  /** A self-hosted MLflow tracking server. */
  | { kind: 'mlflow'; trackingUri: Sourced<string> }
  /** Databricks-managed MLflow, experiment-stored traces (REST path). */
  | { kind: 'databricks'; host: Sourced<string>; profile?: Sourced<string> }
  /** Databricks Unity Catalog trace table through `/api/2.0/otel/v1/traces`. */
  | { kind: 'unity-catalog'; host: Sourced<string>; table: Sourced<string>; profile?: Sourced<string> }
  /** Any OTLP/HTTP endpoint (a collector). */
  | { kind: 'collector'; endpoint: Sourced<string>; headers: Sourced<Record<string, string>> | undefined }
  /** No destination: traces are kept in the local store for `traces push`. */
  | { kind: 'local' };

/** The destinations that keep traces in an MLflow experiment. */
export type MlflowDestination = Extract<Destination, { kind: 'mlflow' | 'databricks' }>;

export function isMlflowDestination(destination: Destination | undefined): destination is MlflowDestination {
  return destination?.kind === 'mlflow' || destination?.kind === 'databricks';
}

export type AuthSettings =
  | { kind: 'none' }
  | { kind: 'basic'; username: Sourced<string>; password: Sourced<string> }
  | { kind: 'bearer'; token: Sourced<string> }
  | { kind: 'databricks-pat'; token: Sourced<string> }
  | { kind: 'databricks-oauth-m2m'; clientId: Sourced<string>; clientSecret: Sourced<string> };

export type ExperimentRef = { kind: 'id'; id: Sourced<string> } | { kind: 'name'; name: Sourced<string> };

export interface ResolvedConfig {
  destination: Destination;
  auth: AuthSettings;
  experiment: ExperimentRef;
  exportPath: Sourced<ExportPath>;
  otlpEncoding: Sourced<OtlpEncoding>;
  /** The MLflow run the command's traces are linked to (`--run-id`, MLFLOW_RUN_ID). */
  runId?: Sourced<string>;
  serviceName: Sourced<string>;
  /** Parsed OTEL_RESOURCE_ATTRIBUTES plus anything from the config file. */
  resourceAttributes: Sourced<Record<string, string>>;
  openai: {
    apiKey?: Sourced<string>;
    baseUrl?: Sourced<string>;
  };
  /** Absent when neither ANTHROPIC_API_KEY nor ANTHROPIC_BASE_URL is set. */
  anthropic?: {
    apiKey?: Sourced<string>;
    baseUrl?: Sourced<string>;
  };
  /**
   * Where traces are kept when no destination is configured (and what `traces push` reads):
   * OTEL_MLFLOW_STORE_DIR, else $XDG_STATE_HOME/otel-mlflow/traces, else ~/.local/state/otel-mlflow/traces.
   */
  storeDir: Sourced<string>;
  /** The store's size cap; near it a warning, at it the oldest delivered traces give way. */
  storeMaxBytes: Sourced<number>;
  /** OpenTelemetry's standard switches: OTEL_SDK_DISABLED, OTEL_TRACES_SAMPLER(_ARG). */
  tracing: {
    disabled: Sourced<boolean>;
    sampler: Sourced<TracesSampler>;
    samplerArg?: Sourced<number>;
  };
  /** Bearer token `serve` requires on every route but `GET /`. */
  authToken?: Sourced<string>;
  /** Browser origins `serve` allows cross-origin requests from (CORS); none when absent. */
  corsOrigins?: Sourced<string[]>;
  /** The relay's routes: service.name → experiment name (created when missing). */
  relayExperiments: Sourced<Record<string, string>>;
  llm: {
    /** Absent when not chosen: the app picks openai with its API key, else anthropic with its key, else the offline model. */
    provider?: Sourced<LlmProviderName>;
    model?: Sourced<string>;
    /** Record message content on LLM spans (on by default; MLflow is of little use without it). */
    captureContent: Sourced<boolean>;
    /**
     * When the provider is databricks: the workspace serving the model (wherever traces go), or why
     * there is none. Only the commands that call the model fail on the latter.
     */
    databricks?: { host: Sourced<string>; auth: AuthSettings } | { problems: ConfigProblem[] };
  };
  /** Every file that contributed (the .env, the config file, ~/.databrickscfg), for doctor's first check. */
  files: { dotenv?: string; configFile?: string; databricksCfg?: string };
  /**
   * Every value that was set, flattened for display: key → value and source. Secrets are present
   * here unmasked; render through maskConfig().
   */
  entries: ConfigEntry[];
  /** Valid but probably not meant: a demo placeholder, Databricks variables nothing uses. */
  notices: string[];
}

export interface ConfigEntry {
  key: string;
  value: string;
  source: Source;
  secret: boolean;
}

export interface LoadConfigOptions {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  homeDir: string;
  flags: FlagValues;
  purpose: ConfigPurpose;
}
