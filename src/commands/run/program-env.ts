import { delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedConfig } from '../../config/types.ts';
import { packageNameIn, programName } from './program-name.ts';
import { CONTENT_ATTRIBUTES_VARIABLE, SPOOL_DIRS_VARIABLE } from '../../preload/preload-settings.ts';

/** The instrumentation a Node program gets preloaded, compiled beside this file. */
const PRELOAD_URL = new URL('../../preload/preload.js', import.meta.url).href;
/** Required before anything of the program's (see claim-api-global.cts); quoted, as a path may hold spaces. */
const CLAIM_API_GLOBAL = JSON.stringify(fileURLToPath(new URL('../../preload/claim-api-global.cjs', import.meta.url)));
/** Required before every other module, the user's NODE_OPTIONS' included, to see every signal (see stop-signal-copies.cts). */
const STOP_SIGNAL_COPIES = JSON.stringify(fileURLToPath(new URL('../../preload/stop-signal-copies.cjs', import.meta.url)));

/**
 * Variables of the tool's own that a program must not inherit: the launcher's mark, and where the
 * traces went and with which credentials, now the tool's to use.
 */
const NOT_PASSED_ON = [
  'OTEL_MLFLOW_PINNED_NODE',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
];

/** The signals besides traces an OpenTelemetry SDK exports: `run` takes the traces only. */
const OTHER_SIGNALS = ['METRICS', 'LOGS'] as const;

/**
 * The program's environment: its own, plus the standard OpenTelemetry variables pointing at the
 * tool's receiver (so any OpenTelemetry SDK in any language sends there), and, for every Node
 * process it starts, the tool's instrumentation preloaded. A service name the user set is kept, and
 * so is a protocol: the receiver takes OTLP/HTTP, protobuf or JSON, and OTLP/gRPC alike.
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
    ...otherSignalsWhereTheyWent(env),
    OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
    ...protocolWhereUnnamed(env),
    OTEL_SERVICE_NAME:
      config.serviceName.source.kind === 'default'
        ? programName(program.command, () => packageNameIn(program.cwd))
        : config.serviceName.value,
    OTEL_TRACES_SAMPLER: sampler.sampler.value,
    ...(sampler.samplerArg && { OTEL_TRACES_SAMPLER_ARG: String(sampler.samplerArg.value) }),
    OTEL_MLFLOW_CAPTURE_CONTENT: String(config.llm.captureContent.value),
    [SPOOL_DIRS_VARIABLE]: spoolDirs.join(delimiter),
    [CONTENT_ATTRIBUTES_VARIABLE]: kind === 'unity-catalog' || kind === 'collector' ? 'gen_ai' : 'mlflow',
    NODE_OPTIONS: [`--require=${STOP_SIGNAL_COPIES}`, env.NODE_OPTIONS, `--require=${CLAIM_API_GLOBAL}`, `--import=${PRELOAD_URL}`]
      .filter(Boolean)
      .join(' '),
  };
}

/** The traces, which come to the receiver, and the signals besides them, which `run` leaves where they went. */
const SIGNALS = ['TRACES', ...OTHER_SIGNALS] as const;
const HTTP_PROTOBUF = 'http/protobuf';
/** Where an SDK sends a signal when no endpoint is named: the specification's defaults, by protocol. */
const DEFAULT_ENDPOINT = { grpc: 'http://localhost:4317', http: 'http://localhost:4318' };

/**
 * OTLP/HTTP protobuf where the environment names no protocol, which every SDK has an exporter for:
 * left unset, it is the SDK's default, gRPC in Python's distro (whose exporter a program with only
 * the HTTP one lacks) and in .NET. For the traces, which come to the receiver, and for a signal with
 * no endpoint named, which goes to the default one of OTLP/HTTP (its port is not gRPC's); in the base
 * variable when that is every signal, as some SDKs read no other. A signal going to an endpoint the
 * user named keeps the protocol it went in.
 */
function protocolWhereUnnamed(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  if (env.OTEL_EXPORTER_OTLP_PROTOCOL) return {};
  const overHttp = SIGNALS.filter(
    (signal) => !env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] && (signal === 'TRACES' || !endpointNamed(env, signal)),
  );
  if (overHttp.length === SIGNALS.length) return { OTEL_EXPORTER_OTLP_PROTOCOL: HTTP_PROTOBUF };
  return Object.fromEntries(overHttp.map((signal) => [`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`, HTTP_PROTOBUF]));
}

/** The user named where the signal goes: an endpoint of its own, or the base one. */
function endpointNamed(env: Readonly<Record<string, string | undefined>>, signal: (typeof OTHER_SIGNALS)[number]): boolean {
  return Boolean(env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`] || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim());
}

/**
 * The program's metrics and logs keep going where they went, with the headers they had, through the
 * per-signal variables, which win over the base ones that now name the tool's receiver (or are kept
 * from it): to the collector the base endpoint named, to one of their own, or, where none was named,
 * to the SDK's default (a collector on the same machine, for one). A per-signal endpoint is the whole
 * URL for OTLP/HTTP and the base form for gRPC. Where the protocol is not set beside a named endpoint,
 * the HTTP form: HTTP is the specification's default, and the gRPC exporters of Python (its distro's
 * default) and Node ignore the path.
 */
function otherSignalsWhereTheyWent(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const signal of OTHER_SIGNALS) {
    if (!env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]) {
      const grpc = (env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] || env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim() === 'grpc';
      const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || DEFAULT_ENDPOINT[grpc ? 'grpc' : 'http'];
      kept[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`] = grpc ? base : `${base.replace(/\/+$/, '')}/v1/${signal.toLowerCase()}`;
    }
    if (env.OTEL_EXPORTER_OTLP_HEADERS && !env[`OTEL_EXPORTER_OTLP_${signal}_HEADERS`]) {
      kept[`OTEL_EXPORTER_OTLP_${signal}_HEADERS`] = env.OTEL_EXPORTER_OTLP_HEADERS;
    }
  }
  return kept;
}
