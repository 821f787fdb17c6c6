import type { OtlpIngest } from '../otlp/otlp-ingest.ts';
import { LOST_BATCHES_HEADER, noteLoss } from '../preload/loss-report.ts';
import type { LocalSpan } from '../spans/local-span.ts';
import type { AssemblyHold } from '../pipeline/store/trace-writes.ts';
import type { SpansToStore, TracePipeline } from '../pipeline/trace-pipeline.ts';
import type { RelayRoutes, RouteDecision } from './relay-routes.ts';
import { toMlflowSpan } from './translate-span.ts';
import { errorMessage } from '../errors.ts';
import { getOrInsert } from '../util/get-or-insert.ts';

/** What the relay took in since it started, for its health page and closing line. */
export interface RelayCounters {
  requests: number;
  spans: number;
  /** Requests answered with a refusal the client must fix (400), or asked to come back (429/503). */
  rejectedRequests: number;
  deferredRequests: number;
  /** Strings in accepted spans that were not valid UTF-8, kept repaired with U+FFFD: some producer cuts text mid-character. */
  repairedStrings: number;
  lastProblem?: { at: string; message: string };
  /** Batches `run`'s programs could keep nowhere (LOST_BATCHES_HEADER), by sender, as each last told. */
  lostBatches: Map<string, number>;
  /**
   * Traces the store turned away while full, by trace id (the first MOST_FOLLOWED): true once their
   * sender sent them again and they were stored. Each counts once, however often it was sent.
   */
  turnedAway: Map<string, boolean>;
}

/** Traces turned away that are followed until the end; a store full for long must not grow the relay's memory without bound. */
export const MOST_FOLLOWED = 100_000;

/** The traces the full store turned away so far, each once, and those of them their senders have not sent again. */
export function turnedAwayCounts(turnedAway: ReadonlyMap<string, boolean>): { traces: number; notSentAgain: number } {
  let notSentAgain = 0;
  for (const cameBack of turnedAway.values()) if (!cameBack) notSentAgain++;
  return { traces: turnedAway.size, notSentAgain };
}

export interface RelayIngestOptions {
  pipeline: TracePipeline;
  routes: RelayRoutes;
  hold: AssemblyHold;
  counters: RelayCounters;
  /** Traces handed to the store and not yet written past which clients are asked to come back. */
  busyAt?: number;
}

const RELAY_ORIGIN = 'relay';
/** Far below the pipeline's own back-pressure mark: a client told to wait costs nothing, a blocked thread costs every client. */
const BUSY_AT = 5_000;
const BUSY_RETRY_S = 1;
const STORE_TROUBLE_RETRY_S = 30;

/**
 * The relay's side of the OTLP receivers: spans become MLflow-readable, are grouped by trace, routed,
 * and written to the store; the client hears "accepted" only once they are committed there. A trace
 * arriving over many requests is merged in the store and held from delivery until it is whole.
 */
export function createRelayIngest(options: RelayIngestOptions): OtlpIngest {
  const { pipeline, routes, hold, counters } = options;
  const busyAt = options.busyAt ?? BUSY_AT;
  const problem = (message: string) => {
    counters.lastProblem = { at: new Date().toISOString(), message };
  };

  return async ({ spans, headers, repairedStrings }) => {
    counters.requests++;
    noteLostBatches(counters.lostBatches, headers[LOST_BATCHES_HEADER]);
    const trouble = pipeline.stats.storeTrouble;
    if (trouble) {
      counters.deferredRequests++;
      problem(trouble.reason);
      return {
        kind: 'unavailable',
        retryAfterSeconds: STORE_TROUBLE_RETRY_S,
        message: `the relay cannot store spans now: ${trouble.reason}`,
      };
    }
    if (pipeline.behind > busyAt) {
      counters.deferredRequests++;
      return { kind: 'busy', retryAfterSeconds: BUSY_RETRY_S, message: 'the relay is still writing what it received; retry shortly' };
    }
    // Counted now: the request's spans are not held while the store commits them.
    const spanCount = spans.length;
    const traces = new Map<string, LocalSpan[]>();
    for (const span of spans) getOrInsert(traces, span.traceId, () => []).push(toMlflowSpan(span));
    const toStore: SpansToStore[] = [];
    // A request usually comes from one service: its route is decided once, not per trace.
    const decisions = new Map<string | undefined, Promise<RouteDecision>>();
    for (const traceSpans of traces.values()) {
      const resourceService = traceSpans[0]!.resource['service.name'];
      const service = typeof resourceService === 'string' ? resourceService : undefined;
      const decision = await getOrInsert(decisions, service, () => routes.decide(service, headers['x-mlflow-experiment-id']));
      if (decision.kind === 'reject') {
        counters.rejectedRequests++;
        problem(decision.message);
        return { kind: 'rejected', message: decision.message };
      }
      toStore.push({ spans: traceSpans, origin: RELAY_ORIGIN, hold, ...(decision.key !== undefined && { destination: decision.key }) });
    }
    let refused: string[];
    try {
      refused = toStore.length === 0 ? [] : await pipeline.storeDurably(toStore);
    } catch (error) {
      const message = `the relay cannot store spans: ${errorMessage(error)}`;
      counters.deferredRequests++;
      problem(message);
      return { kind: 'unavailable', retryAfterSeconds: STORE_TROUBLE_RETRY_S, message };
    }
    if (counters.turnedAway.size > 0) {
      const stored = new Set(refused);
      for (const traceId of traces.keys())
        if (!stored.has(traceId) && counters.turnedAway.has(traceId)) counters.turnedAway.set(traceId, true);
    }
    if (refused.length > 0) {
      for (const traceId of refused) {
        if (counters.turnedAway.size < MOST_FOLLOWED || counters.turnedAway.has(traceId)) counters.turnedAway.set(traceId, false);
      }
      // The others were stored; the client sends the whole request again and the store merges it.
      const message = `the relay's trace store ${pipeline.store.dir} is full of undelivered traces; they leave as the destination takes them`;
      counters.deferredRequests++;
      problem(message);
      return { kind: 'unavailable', retryAfterSeconds: STORE_TROUBLE_RETRY_S, message };
    }
    counters.spans += spanCount;
    counters.repairedStrings += repairedStrings;
    return { kind: 'accepted' };
  };
}

/** Senders told of past this are not counted: a client cannot grow the relay's memory with made-up ones. */
const MOST_LOSING_SENDERS = 10_000;

function noteLostBatches(lost: Map<string, number>, header: string | undefined): void {
  const match = header ? /^(\S{1,64}) (\d{1,9})$/.exec(header) : null;
  if (!match) return;
  const [, sender, count] = match as unknown as [string, string, string];
  if (!lost.has(sender) && lost.size >= MOST_LOSING_SENDERS) return;
  noteLoss(lost, sender, Number(count));
}
