import { delimiter } from 'node:path';
import type { ResolvedConfig } from '../../config/types.ts';
import { packageNameIn, programName } from './program-name.ts';
import { CONTENT_ATTRIBUTES_VARIABLE, SPOOL_DIRS_VARIABLE } from '../../preload/preload-settings.ts';

/** The instrumentation a Node program gets preloaded, compiled beside this file. */
const PRELOAD_URL = new URL('../../preload/preload.js', import.meta.url).href;

/** Variables of the tool's own that a program must not inherit (the launcher's mark, a collector's address and credentials). */
const NOT_PASSED_ON = [
  'OTEL_MLFLOW_PINNED_NODE',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
];

/**
 * The program's environment: its own, plus the standard OpenTelemetry variables pointing at the
 * tool's receiver (so any OpenTelemetry SDK in any language sends there), and, for every Node
 * process it starts, the tool's instrumentation preloaded. A service name the user set is kept.
 */
export function programEnv(
  env: Readonly<Record<string, string | undefined>>,
  config: ResolvedConfig,
  receiverUrl: string,
  spoolDirs: readonly string[],
  program: { command: readonly string[]; cwd: string },
): Record<string, string | undefined> {
  const child: Record<string, string | undefined> = { ...env };
  for (const name of NOT_PASSED_ON) delete child[name];
  const kind = config.destination.kind;
  const sampler = config.tracing;
  return {
    ...child,
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_SERVICE_NAME:
      config.serviceName.source.kind === 'default'
        ? programName(program.command, () => packageNameIn(program.cwd))
        : config.serviceName.value,
    OTEL_TRACES_SAMPLER: sampler.sampler.value,
    ...(sampler.samplerArg && { OTEL_TRACES_SAMPLER_ARG: String(sampler.samplerArg.value) }),
    OTEL_MLFLOW_CAPTURE_CONTENT: String(config.llm.captureContent.value),
    [SPOOL_DIRS_VARIABLE]: spoolDirs.join(delimiter),
    [CONTENT_ATTRIBUTES_VARIABLE]: kind === 'unity-catalog' || kind === 'collector' ? 'gen_ai' : 'mlflow',
    NODE_OPTIONS: [env.NODE_OPTIONS, `--import=${PRELOAD_URL}`].filter(Boolean).join(' '),
  };
}
