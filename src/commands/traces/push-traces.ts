import type { ResolvedConfig } from '../../config/types.ts';
import { isPassingFailure } from '../../destination/background-resolution.ts';
import { APP_EXPERIMENT_POLICY, ensureTargetExperiment, resolveDestination } from '../../destination/resolve.ts';
import { describeDestination, foundNotes, routeName, type ResolvedDestination } from '../../destination/resolved-destination.ts';
import {
  describeTarget,
  isExperimentTarget,
  parseTargetKey,
  targetKey,
  targetOf,
  withoutRun,
  type ExperimentTarget,
} from '../../destination/target.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { connectToTracking } from '../../mlflow/connect.ts';
import type { MlflowHttp } from '../../mlflow/http.ts';
import { experimentUrl, runUrl, traceUrl } from '../../mlflow/ui-links.ts';
import { ownerPid } from '../../pipeline/deliver/lease-owner.ts';
import { Outbox } from '../../pipeline/outbox.ts';
import type { EvaluationState } from '../../destination/evaluation-items.ts';
import type { EvaluationStore } from '../../pipeline/store/evaluation-store.ts';
import type { DeliveryState } from '../../pipeline/store/stored-trace.ts';
import type { TraceStore } from '../../pipeline/store/trace-store.ts';
import { mlflowTraceId } from '../../tracing/trace-id.ts';
import { commandLine } from '../../invocation.ts';
import { getOrInsert } from '../../util/get-or-insert.ts';

/** A push waits this long for the destination at most; what is left stays pending for the next one. */
const PUSH_DEADLINE_MS = 10 * 60_000;
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

/** Traces that go to one experiment: where they were made for, or where the configuration says. */
interface PushGroup {
  target: ExperimentTarget;
  hexIds: string[];
}

/** What a push is about, before anything is sent. */
export interface PushPlan {
  groups: PushGroup[];
  /** Traces waiting for a place this push does not reach (another server, a table, a collector). */
  elsewhere: { description: string; hexIds: string[] }[];
}

/** One group's outcome. */
interface PushedGroup {
  /** For people: where they went, or were meant to go. */
  destination: string;
  experiment?: { id: string; name?: string; url: string };
  /** 'OTLP' or 'MLflow REST'; absent when the destination could not be resolved. */
  route?: string;
  notes: string[];
  traces: PushedTrace[];
}

export interface PushedEvaluations {
  runs: { id: string; runId: string | null; state: EvaluationState; problem?: string; url?: string; notes: string[] }[];
  scores: { delivered: number; pending: number; refused: number };
  /** Each distinct reason a score is not in MLflow. */
  scoreProblems: string[];
}

export interface PushReport {
  groups: PushedGroup[];
  elsewhere: PushPlan['elsewhere'];
  evaluations?: PushedEvaluations;
  /** Stopped by Ctrl-C before it was done. */
  interrupted: boolean;
}

/** Hex ids of the stored traces a push is about, oldest first. */
export function selectForPush(store: TraceStore, selection: PushSelection, configuredKey: string): string[] {
  if (selection.ids.length > 0) {
    return selection.ids.map((id) => {
      const trace = store.reads.get(id);
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
  return store.reads.select({
    states,
    ...(selection.since && { since: selection.since }),
    ...(!selection.includeDoctor && { excludeOrigins: ['doctor'] }),
    // Sent there already: a second push must not send it again.
    excludeDeliveredTo: configuredKey,
  });
}

/**
 * Where each selected trace goes: a trace that waits (or was refused) for an experiment goes there,
 * with its run, as long as that experiment is on the configured server; a local-only one, or one
 * delivered elsewhere and pushed with --all, goes where the configuration says. An experiment or run
 * given on the command line sends them all there.
 */
export function planPush(store: TraceStore, hexIds: readonly string[], config: ResolvedConfig): PushPlan {
  const configured = targetOf(config);
  if (!isExperimentTarget(configured)) throw new Error('a push needs an MLflow experiment to push to');
  const ref = config.experiment;
  const override = (ref.kind === 'id' ? ref.id : ref.name).source.kind === 'flag' || config.runId?.source.kind === 'flag';
  const groups = new Map<string, PushGroup>();
  const elsewhere = new Map<string, { description: string; hexIds: string[] }>();
  const add = (target: ExperimentTarget, hex: string) => {
    getOrInsert(groups, targetKey(target), () => ({ target, hexIds: [] })).hexIds.push(hex);
  };
  for (const hex of hexIds) {
    const delivery = store.reads.deliveryOf(hex);
    const recorded =
      !override && delivery?.destination && delivery.state !== 'delivered' ? parseTargetKey(delivery.destination) : undefined;
    if (!recorded) add(configured, hex);
    else if (isExperimentTarget(recorded) && recorded.kind === configured.kind && recorded.server === configured.server) add(recorded, hex);
    else getOrInsert(elsewhere, targetKey(recorded), () => ({ description: describeTarget(recorded), hexIds: [] })).hexIds.push(hex);
  }
  return { groups: [...groups.values()], elsewhere: [...elsewhere.values()] };
}

export interface PushInput {
  config: ResolvedConfig;
  traces: TraceStore;
  evaluations: EvaluationStore;
  plan: PushPlan;
  /** Also suite runs and scores refused before. */
  dead?: boolean;
  /** Called as items leave, per kind (`traces`, `suite runs`, `scores`): delivered or refused so far, of how many. */
  progress?: (queue: string, done: number, total: number) => void;
  /** Aborted (Ctrl-C): no new request is started; what was not sent keeps waiting for the next push. */
  signal?: AbortSignal;
  /** A group is about to be sent, resolved. */
  sending?: (group: PushedGroup, traces: number) => void;
  /** Suite runs and scores are about to be sent, after the traces. */
  sendingEvaluations?: (runs: number, scores: number) => void;
}

/**
 * Hands every group to the outbox every command uses: each trace becomes pending for its group's
 * destination (unless another live process holds it: that one delivers it), then traces, suite runs
 * and scores are delivered, in that order, until none is left, the destination stops answering, or
 * the deadline passes (then they stay pending, with the reason).
 */
export async function pushTraces(input: PushInput): Promise<PushReport> {
  const { config, traces, evaluations, plan } = input;
  const http = connectToTracking(config)!.http;
  const totals = new Map<string, number>([['traces', plan.groups.reduce((sum, group) => sum + group.hexIds.length, 0)]]);
  const done = new Map<string, number>();
  const outbox = new Outbox({
    traces,
    evaluations,
    auth: config.auth,
    onEvent: (event) => {
      if (event.kind !== 'delivered' && event.kind !== 'dead') return;
      const count = (done.get(event.queue) ?? 0) + (event.kind === 'dead' ? 1 : event.items);
      done.set(event.queue, count);
      const total = totals.get(event.queue) ?? count;
      input.progress?.(event.queue, Math.min(count, total), total);
    },
  });
  const stop = () => outbox.interrupt();
  input.signal?.addEventListener('abort', stop, { once: true });
  const groups: { group: PushGroup; resolved?: ResolvedDestination; problem?: string; leased: Set<string> }[] = [];
  try {
    for (const group of plan.groups) {
      let resolved: ResolvedDestination;
      try {
        resolved = await resolveDestination(group.target, config, { http });
      } catch (error) {
        // A problem a person must fix with what they configured is the push's failure; for traces that
        // wait for another experiment, it is theirs: they keep waiting, with the reason.
        if (!isPassingFailure(error) && sameExperiment(group.target, config)) throw error;
        groups.push({ group, problem: (error as Error).message, leased: new Set() });
        continue;
      }
      const { leased } = traces.outbox.requeue(group.hexIds, resolved.key);
      outbox.addDestination(resolved);
      const entry = { group, resolved, leased: new Set(leased) };
      groups.push(entry);
      input.sending?.(describeGroup(entry.group, resolved, []), group.hexIds.length);
    }
    const places = await evaluationPlaces(
      config,
      http,
      evaluations,
      input.dead === true,
      groups.flatMap((g) => (g.resolved ? [g.resolved] : [])),
    );
    for (const place of places.resolved) outbox.addEvaluationDestination(place);
    const waiting = places.keys.flatMap((key) => evaluations.pendingIn(key));
    totals.set('suite runs', waiting.filter((item) => item.kind === 'run').length);
    totals.set('scores', waiting.filter((item) => item.kind === 'score').length);
    if (waiting.length > 0) input.sendingEvaluations?.(totals.get('suite runs')!, totals.get('scores')!);
    if (!input.signal?.aborted) await outbox.flush(PUSH_DEADLINE_MS, { maxConsecutiveFailures: PUSH_MAX_FAILURES });

    const pushed = groups.map(({ group, resolved, problem, leased }) =>
      describeGroup(
        group,
        resolved,
        group.hexIds.map((hex) => pushedTrace(traces, hex, resolved, problem, leased.has(hex))),
      ),
    );
    const report: PushReport = { groups: pushed, elsewhere: plan.elsewhere, interrupted: input.signal?.aborted === true };
    if (waiting.length > 0 || places.problems.length > 0) report.evaluations = evaluationReport(evaluations, waiting, places);
    return report;
  } finally {
    input.signal?.removeEventListener('abort', stop);
    await outbox.close(0);
  }
}

function sameExperiment(target: ExperimentTarget, config: ResolvedConfig): boolean {
  const configured = targetOf(config);
  return configured !== undefined && targetKey(withoutRun(configured)) === targetKey(withoutRun(target));
}

function describeGroup(group: PushGroup, resolved: ResolvedDestination | undefined, pushed: PushedTrace[]): PushedGroup {
  if (resolved?.kind !== 'mlflow' && resolved?.kind !== 'databricks')
    return { destination: describeTarget(group.target), notes: [], traces: pushed };
  const { experiment } = resolved;
  return {
    destination: describeDestination(resolved),
    experiment: { ...experiment, url: experimentUrl(resolved.target, experiment.id) },
    route: routeName(resolved),
    notes: [...foundNotes(resolved), ...resolved.notes],
    traces: pushed,
  };
}

function pushedTrace(
  store: TraceStore,
  hex: string,
  resolved: ResolvedDestination | undefined,
  problem: string | undefined,
  leasedElsewhere: boolean,
): PushedTrace {
  const traceId = mlflowTraceId(hex);
  if (!resolved) return { traceId, result: 'pending', reason: `not sent: ${problem ?? 'the destination was not resolved'}` };
  const delivery = store.reads.deliveryOf(hex);
  if (delivery?.state === 'delivered') {
    const url =
      resolved.kind === 'mlflow' || resolved.kind === 'databricks' ? traceUrl(resolved.target, resolved.experiment.id, traceId) : undefined;
    return { traceId, result: 'sent', ...(url && { url }) };
  }
  if (leasedElsewhere) {
    const owner = store.outbox.leaseOwnerOf(hex);
    const pid = owner && ownerPid(owner);
    return { traceId, result: 'pending', reason: `another otel-mlflow process${pid ? ` (pid ${pid})` : ''} is delivering it` };
  }
  const result: PushResult = delivery?.state === 'dead' ? 'failed' : 'pending';
  return { traceId, result, ...(delivery?.lastAnswer && { reason: delivery.lastAnswer }) };
}

/** Suite runs and scores a push would carry: those kept local-only, and those waiting for an experiment on this server. */
export function evaluationsToPush(evaluations: EvaluationStore, config: ResolvedConfig, dead: boolean): number {
  const configured = targetOf(config);
  if (!isExperimentTarget(configured)) return 0;
  let count = evaluations.localCount({ refused: dead });
  for (const key of evaluations.pendingDestinations()) {
    const place = parseTargetKey(key);
    if (isExperimentTarget(place) && place.kind === configured.kind && place.server === configured.server)
      count += evaluations.pendingIn(key).length;
  }
  return count;
}

/**
 * The experiments suite runs and scores wait for: the configured one takes those kept local-only; the
 * others on this server are found, so everything waiting there leaves too.
 */
async function evaluationPlaces(
  config: ResolvedConfig,
  http: MlflowHttp,
  evaluations: EvaluationStore,
  dead: boolean,
  resolved: readonly ResolvedDestination[],
) {
  const configured = targetOf(config) as ExperimentTarget;
  const configuredPlace = withoutRun(configured) as ExperimentTarget;
  evaluations.requeue(targetKey(configuredPlace), { refused: dead });
  const known = new Map<string, string>();
  for (const destination of resolved) {
    if (destination.kind === 'mlflow' || destination.kind === 'databricks')
      known.set(targetKey(withoutRun(destination.target)), destination.experiment.id);
  }
  const places: { kind: ExperimentTarget['kind']; target: ExperimentTarget; experiment: { id: string } }[] = [];
  const problems: string[] = [];
  const keys: string[] = [];
  for (const key of evaluations.pendingDestinations()) {
    const place = parseTargetKey(key);
    if (!isExperimentTarget(place) || place.kind !== configured.kind || place.server !== configured.server) continue;
    let id = known.get(key);
    if (!id) {
      try {
        id = (await ensureTargetExperiment(http, place, APP_EXPERIMENT_POLICY)).experiment.experimentId;
      } catch (error) {
        problems.push(`${describeTarget(place)}: ${(error as Error).message}`);
        continue;
      }
    }
    keys.push(key);
    places.push({ kind: place.kind, target: place, experiment: { id } });
  }
  return { resolved: places, keys, problems };
}

function evaluationReport(
  store: EvaluationStore,
  waiting: readonly { kind: 'run' | 'score'; id: string | number }[],
  places: Awaited<ReturnType<typeof evaluationPlaces>>,
): PushedEvaluations {
  const runs: PushedEvaluations['runs'] = [];
  const scores = { delivered: 0, pending: 0, refused: 0 };
  const problems = new Set<string>(places.problems);
  const experimentOf = new Map(places.resolved.map((place) => [targetKey(place.target), place]));
  for (const item of waiting) {
    if (item.kind === 'run') {
      const run = store.suiteRun(String(item.id))!;
      const place = run.destination ? experimentOf.get(run.destination) : undefined;
      const url = place && run.runId ? runUrl(place.target, place.experiment.id, run.runId) : undefined;
      runs.push({
        id: run.id,
        runId: run.runId,
        state: run.state,
        ...(run.state !== 'delivered' && { problem: run.lastAnswer ?? 'MLflow did not answer' }),
        ...(url && { url }),
        notes: run.state === 'delivered' && run.lastAnswer ? [run.lastAnswer] : [],
      });
    } else {
      const score = store.score(Number(item.id))!;
      scores[score.state]++;
      if (score.state !== 'delivered') problems.add(score.lastAnswer ?? 'MLflow did not answer');
    }
  }
  return { runs, scores, scoreProblems: [...problems] };
}
