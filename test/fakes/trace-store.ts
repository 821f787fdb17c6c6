import { randomUUID } from 'node:crypto';
import { spansFromTracesJson } from './span-json.ts';

/** An experiment as the server keeps it (the REST API answers it in snake_case). */
export interface StoredExperiment {
  experimentId: string;
  name: string;
  artifactLocation: string;
  lifecycleStage: 'active' | 'deleted';
  creationTime: number;
  lastUpdateTime: number;
}

/** TraceInfoV3 exactly as `GET /api/3.0/mlflow/traces/{id}` answers it (empty fields left out). */
export interface TraceInfo {
  trace_id: string;
  client_request_id?: string;
  trace_location: { type: string; mlflow_experiment: { experiment_id: string } };
  request_time: string;
  execution_duration?: string;
  state: string;
  trace_metadata?: Record<string, string>;
  tags?: Record<string, string>;
  request_preview?: string;
  response_preview?: string;
  /** Feedback and expectations logged on the trace, as the Assessment proto's JSON. */
  assessments?: Record<string, unknown>[];
}

export interface StoredSpanEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Record<string, unknown>;
}

export interface StoredSpan {
  name: string;
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  parentSpanId: string | null;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** `STATUS_CODE_UNSET` / `STATUS_CODE_OK` / `STATUS_CODE_ERROR` (a REST upload may hold anything). */
  status: { code: string; message: string };
  /** Attribute values decoded to JS values (what MLflow's UI shows). */
  attributes: Record<string, unknown>;
  /**
   * Attribute values as the server stores them: JSON-encoded strings. For a REST-logged trace this
   * is whatever its traces.json held, so a value that is not a string shows a client bug.
   */
  rawAttributes: Record<string, unknown>;
  events: StoredSpanEvent[];
}

export interface StoredTrace {
  info: TraceInfo;
  /** OTLP: the stored spans. REST: the spans of the uploaded traces.json ([] before an upload or when unreadable). */
  spans: StoredSpan[];
  /**
   * Where its spans are read from, as MLflow decides it by the tag `mlflow.trace.spansLocation`:
   * `otlp` = the tracking store (`TRACKING_STORE`, which OTLP ingest sets), `rest` = traces.json.
   */
  loggedVia: 'otlp' | 'rest';
  /** Runs the trace is linked to (MLflow's entity_associations, written by link-to-run and x-mlflow-run-id). */
  linkedRunIds: string[];
}

/** A run as the server keeps it (`runs/get` answers it in snake_case). */
export interface StoredRun {
  runId: string;
  experimentId: string;
  name: string;
  lifecycleStage: 'active' | 'deleted';
  startTime: number;
  endTime?: number;
  status: 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
  artifactUri: string;
  params: Map<string, string>;
  /** Every logged point of each metric, in logging order. */
  metrics: Map<string, { value: number; timestamp: number; step: number }[]>;
  tags: Map<string, string>;
}

export interface TraceRecord {
  info: TraceInfo;
  /** Spans OTLP ingest stored (the tracking store's spans table). */
  spans: Map<string, StoredSpan>;
  resourceAttributes: Record<string, unknown>;
}

export interface TraceStoreOptions {
  /** Id of the next experiment (MLflow's SQL store counts up; file stores and Databricks use long random numbers). */
  nextExperimentId: () => string;
  artifactLocation: (experimentId: string) => string;
}

/** The trace tag by which MLflow reads a trace's spans from its tracking store instead of traces.json. */
export const SPANS_LOCATION = 'mlflow.trace.spansLocation';

/** Experiments, traces, spans and uploaded artifacts: what a server would have stored. */
export class TraceStore {
  readonly #options: TraceStoreOptions;
  readonly #experiments = new Map<string, StoredExperiment>();
  readonly #traces = new Map<string, TraceRecord>();
  readonly #artifacts = new Map<string, Buffer>();
  readonly #runs = new Map<string, StoredRun>();
  /** Trace id → run ids. Like the SQL store's association rows, neither end is checked to exist. */
  readonly #runLinks = new Map<string, Set<string>>();

  constructor(options: TraceStoreOptions) {
    this.#options = options;
  }

  /** Every experiment by id, deleted ones included. */
  get experiments(): ReadonlyMap<string, StoredExperiment> {
    return this.#experiments;
  }

  createExperiment(name: string, id = this.#options.nextExperimentId()): StoredExperiment {
    const now = Date.now();
    const experiment: StoredExperiment = {
      experimentId: id,
      name,
      artifactLocation: this.#options.artifactLocation(id),
      lifecycleStage: 'active',
      creationTime: now,
      lastUpdateTime: now,
    };
    this.#experiments.set(id, experiment);
    return experiment;
  }

  experimentByName(name: string): StoredExperiment | undefined {
    return [...this.#experiments.values()].find((experiment) => experiment.name === name);
  }

  setLifecycle(id: string, stage: StoredExperiment['lifecycleStage']): void {
    const experiment = this.#experiments.get(id);
    if (experiment === undefined) throw new Error(`no experiment ${id}`);
    experiment.lifecycleStage = stage;
    experiment.lastUpdateTime = Date.now();
  }

  /** Every run by id, deleted ones included. */
  get runs(): ReadonlyMap<string, StoredRun> {
    return this.#runs;
  }

  createRun(experimentId: string, name = `run-${this.#runs.size + 1}`, startTime = Date.now()): StoredRun {
    const runId = randomUUID().replace(/-/g, '');
    const experiment = this.#experiments.get(experimentId);
    const run: StoredRun = {
      runId,
      experimentId,
      name,
      lifecycleStage: 'active',
      startTime,
      status: 'RUNNING',
      artifactUri: `${experiment?.artifactLocation ?? ''}/${runId}/artifacts`,
      params: new Map(),
      metrics: new Map(),
      tags: new Map([['mlflow.runName', name]]),
    };
    this.#runs.set(runId, run);
    return run;
  }

  setRunLifecycle(runId: string, stage: StoredRun['lifecycleStage']): void {
    const run = this.#runs.get(runId);
    if (run === undefined) throw new Error(`no run ${runId}`);
    run.lifecycleStage = stage;
  }

  linkTraces(traceIds: readonly string[], runId: string): void {
    for (const traceId of traceIds) {
      const runs = this.#runLinks.get(traceId) ?? new Set<string>();
      runs.add(runId);
      this.#runLinks.set(traceId, runs);
    }
  }

  /** The ids of the traces linked to a run. */
  tracesOfRun(runId: string): string[] {
    return [...this.#runLinks].filter(([, runs]) => runs.has(runId)).map(([traceId]) => traceId);
  }

  /** Adds an assessment to a known trace's info; false when no trace has the id. */
  addAssessment(traceId: string, assessment: Record<string, unknown>): boolean {
    const record = this.#traces.get(traceId);
    if (record === undefined) return false;
    record.info.assessments = [...(record.info.assessments ?? []), assessment];
    return true;
  }

  traces(experimentId?: string): StoredTrace[] {
    return [...this.#traces.values()]
      .filter((record) => experimentId === undefined || record.info.trace_location.mlflow_experiment.experiment_id === experimentId)
      .map((record) => this.#view(record));
  }

  getTrace(traceId: string): StoredTrace | undefined {
    const record = this.#traces.get(traceId);
    return record === undefined ? undefined : this.#view(record);
  }

  /** For ingest: the live record of a trace, created on first use; a trace registered over REST before is the same record. */
  otlpRecord(info: TraceInfo): TraceRecord {
    let record = this.#traces.get(info.trace_id);
    if (record === undefined) {
      record = { info, spans: new Map(), resourceAttributes: {} };
      this.#traces.set(info.trace_id, record);
    }
    return record;
  }

  /** Registers or updates a trace's info (StartTraceV3); spans OTLP ingest stored for it stay. */
  putRestTrace(info: TraceInfo): void {
    const existing = this.#traces.get(info.trace_id);
    this.#traces.set(info.trace_id, { info, spans: existing?.spans ?? new Map(), resourceAttributes: existing?.resourceAttributes ?? {} });
  }

  putArtifact(path: string, bytes: Buffer): void {
    this.#artifacts.set(path, bytes);
  }

  artifact(path: string): Buffer | undefined {
    return this.#artifacts.get(path);
  }

  /** Where a trace's traces.json lives in the artifact store, from its `mlflow.artifactLocation` tag. */
  static tracesJsonPath(info: TraceInfo): string | undefined {
    const location = info.tags?.['mlflow.artifactLocation'];
    if (location === undefined) return undefined;
    return `${location.replace(/^[a-z-]+:\/+/, '')}/traces.json`;
  }

  #view(record: TraceRecord): StoredTrace {
    const linkedRunIds = [...(this.#runLinks.get(record.info.trace_id) ?? [])];
    if (record.info.tags?.[SPANS_LOCATION] === 'TRACKING_STORE') {
      return { info: structuredClone(record.info), spans: sortSpans([...record.spans.values()]), loggedVia: 'otlp', linkedRunIds };
    }
    const path = TraceStore.tracesJsonPath(record.info);
    const bytes = path === undefined ? undefined : this.#artifacts.get(path);
    const spans = bytes === undefined ? [] : (spansFromTracesJson(bytes.toString('utf8')) ?? []);
    return { info: structuredClone(record.info), spans, loggedVia: 'rest', linkedRunIds };
  }
}

/** Start-time order, a parent before its children on ties (the order MLflow reads spans back in). */
export function sortSpans(spans: StoredSpan[]): StoredSpan[] {
  const depth = (span: StoredSpan): number => (span.parentSpanId === null ? 0 : 1);
  return spans.sort((a, b) =>
    a.startTimeUnixNano === b.startTimeUnixNano ? depth(a) - depth(b) : a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1,
  );
}
