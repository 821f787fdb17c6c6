import { delimiter } from 'node:path';

/**
 * What `otel-mlflow run` tells the instrumentation it preloads into a program, through the program's
 * environment: the standard OpenTelemetry variables, and the tool's own for what they do not say.
 */
export interface PreloadSettings {
  /** `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`: the tool's own receiver. */
  tracesUrl: string;
  /** False: no span leaves the program with prompts, answers or request bodies. */
  captureContent: boolean;
  /** Where message content goes: MLflow reads mlflow.spanInputs/Outputs, collectors and tables gen_ai.*. */
  contentAttributes: 'mlflow' | 'gen_ai';
  /** Where spans the receiver did not take are left, in order: the first that takes the file; `run` sends them on. */
  spoolDirs: string[];
}

/** Set by `run` for the preloaded instrumentation only; a program never needs them. */
export const CONTENT_ATTRIBUTES_VARIABLE = 'OTEL_MLFLOW_CONTENT_ATTRIBUTES';
/** Directories joined as in PATH. */
export const SPOOL_DIRS_VARIABLE = 'OTEL_MLFLOW_SPOOL_DIRS';

/** Undefined when there is nowhere to send spans, or OpenTelemetry is switched off: the program then runs untouched. */
export function preloadSettings(env: Readonly<Record<string, string | undefined>>): PreloadSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? joinTracesPath(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (!endpoint) return undefined;
  const capture = env.OTEL_MLFLOW_CAPTURE_CONTENT ?? env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
  return {
    tracesUrl: endpoint,
    captureContent: capture?.trim().toLowerCase() !== 'false',
    contentAttributes: env[CONTENT_ATTRIBUTES_VARIABLE] === 'gen_ai' ? 'gen_ai' : 'mlflow',
    spoolDirs: (env[SPOOL_DIRS_VARIABLE] ?? '').split(delimiter).filter(Boolean),
  };
}

/** The specification's rule for the base endpoint: the signal's path is appended. */
function joinTracesPath(base: string | undefined): string | undefined {
  if (!base) return undefined;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}
