import type { MlflowDestination, ResolvedConfig } from '../config/types.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { connectToTracking } from '../mlflow/connect.ts';
import { checkConfiguredRun } from '../mlflow/check-run.ts';
import { ensureAppExperiment, type EnsuredExperiment } from '../mlflow/ensure-experiment.ts';
import type { MlflowHttp } from '../mlflow/http.ts';
import { capabilitiesFor, getServerVersion } from '../mlflow/server-info.ts';
import { traceUrl } from '../mlflow/ui-links.ts';
import { Deliverer } from '../pipeline/deliver/deliverer.ts';
import { destinationForPlan } from '../pipeline/destinations/destination-for-plan.ts';
import { destinationKey } from '../pipeline/destinations/destination-key.ts';
import type { DeliveryState } from '../pipeline/store/stored-trace.ts';
import type { TraceStore } from '../pipeline/store/trace-store.ts';
import { mlflowTraceId } from '../tracing/trace-id.ts';
import { chooseExportPlan } from '../tracing/export-plan.ts';
import { commandLine } from '../util/invocation.ts';

/** A push waits this long for the destination at most; what is left stays pending for the next one. */
export const PUSH_DEADLINE_MS = 10 * 60_000;
/** Failed tries in a row after which a push stops waiting for a destination that does not answer. */
const PUSH_MAX_FAILURES = 5;

export type PushResult = 'sent' | 'pending' | 'failed';

export interface PushedTrace {
  traceId: string;
  result: PushResult;
  reason?: string;
  /** The trace in the MLflow UI, once sent. */
  url?: string;
}

/** The experiment the traces go to, found or created before anything is sent. */
export interface PushTarget {
  config: ResolvedConfig;
  destination: MlflowDestination;
  http: MlflowHttp;
  ensured: EnsuredExperiment;
}

export interface PushSelection {
  /** Trace ids or unique prefixes; none: every local-only and pending trace. */
  ids: readonly string[];
  since?: Date;
  /** Also traces refused before. */
  dead?: boolean;
  /** Every stored trace not yet delivered to this destination, also those delivered elsewhere. */
  all?: boolean;
  /** Also doctor's test traces, which belong in doctor's experiment rather than the app's. */
  includeDoctor?: boolean;
}

export interface PushReport {
  traces: PushedTrace[];
  /** How the traces went out ('OTLP' or 'MLflow REST'). */
  route: string;
  notes: string[];
}

export async function openPushTarget(config: ResolvedConfig, destination: MlflowDestination): Promise<PushTarget> {
  const { http } = connectToTracking(config)!;
  const ensured = await ensureAppExperiment(http, config.experiment);
  return { config, destination, http, ensured };
}

/** Hex ids of the stored traces a push is about, oldest first. */
export function selectForPush(store: TraceStore, selection: PushSelection, destination: string): string[] {
  if (selection.ids.length > 0) {
    return selection.ids.map((id) => {
      const trace = store.get(id);
      if (!trace) {
        throw new ExpectedError(`no stored trace matches '${id}' in ${store.dir}`, {
          exitCode: ExitCode.usage,
          hint: `run \`${commandLine('traces list')}\` to see the stored trace ids`,
        });
      }
      return trace.traceId.slice(3);
    });
  }
  const states: DeliveryState[] = selection.all
    ? ['local', 'pending', 'delivered', 'dead']
    : ['local', 'pending', ...(selection.dead ? (['dead'] as const) : [])];
  return store.select({
    states,
    ...(selection.since && { since: selection.since }),
    ...(!selection.includeDoctor && { excludeOrigins: ['doctor'] }),
    // Sent there already: a second push must not send it again.
    excludeDeliveredTo: destination,
  });
}

/**
 * Hands the selected traces to the push target's destination through the same store and deliverer
 * every command uses: they become pending for it, and are delivered in batches until none is left,
 * the destination stops answering, or the deadline passes (then they stay pending).
 */
export async function pushTraces(
  target: PushTarget,
  store: TraceStore,
  hexIds: readonly string[],
  progress?: (done: number, total: number) => void,
): Promise<PushReport> {
  const { http, destination, config } = target;
  const experimentId = target.ensured.experiment.experimentId;
  const key = destinationKey(config)!;
  const capabilities = destination.kind === 'mlflow' ? capabilitiesFor(await getServerVersion(http)) : undefined;
  const run = await checkConfiguredRun(config, http);
  const plan = await chooseExportPlan({ config, http, experimentId, ...(capabilities && { capabilities }), ...(run && { runId: run.runId }) });
  if (plan.kind === 'local') throw new Error('a push needs a destination');
  store.requeue(hexIds, key);
  let done = 0;
  const deliverer = new Deliverer({
    store,
    destination: destinationForPlan(plan, key),
    onEvent: (event) => {
      done += event.kind === 'delivered' ? event.traces : event.kind === 'dead' ? 1 : 0;
      progress?.(Math.min(done, hexIds.length), hexIds.length);
    },
  });
  try {
    await deliverer.drain({ deadlineMs: PUSH_DEADLINE_MS, maxConsecutiveFailures: PUSH_MAX_FAILURES });
  } finally {
    deliverer.stop();
  }
  const traces = hexIds.map((hex): PushedTrace => {
    const traceId = mlflowTraceId(hex);
    const delivery = store.deliveryOf(hex);
    if (delivery?.state === 'delivered') {
      const url = traceUrl(destination, experimentId, traceId);
      return { traceId, result: 'sent', ...(url && { url }) };
    }
    const result: PushResult = delivery?.state === 'dead' ? 'failed' : 'pending';
    return { traceId, result, ...(delivery?.lastAnswer && { reason: delivery.lastAnswer }) };
  });
  return { traces, route: plan.kind === 'otlp' ? 'OTLP' : 'MLflow REST', notes: plan.notes };
}
