import type { ResolvedConfig } from '../config/types.ts';
import { BackgroundResolution, DESTINATION_START_WAIT_MS, type ResolutionState } from '../destination/background-resolution.ts';
import { resolveDestination } from '../destination/resolve.ts';
import { describeDestination, describeJustResolved, foundNotes, type ResolvedDestination } from '../destination/resolved-destination.ts';
import { describeTarget, isExperimentTarget, targetOf, type Target } from '../destination/target.ts';
import { refuseRunWithoutExperiment } from '../mlflow/check-run.ts';
import { connectToTracking } from '../mlflow/connect.ts';
import { experimentUrl, traceUrl } from '../mlflow/ui-links.ts';
import { commandLine } from '../invocation.ts';

/** Where a command's traces go, as it stands now: local only, being resolved, resolved, or failing. */
export interface DestinationRuntime {
  /** Undefined in local-only mode. */
  readonly target: Target | undefined;
  resolved(): ResolvedDestination | undefined;
  state(): ResolutionState | { kind: 'local' };
  /** For people, as it stands: where traces go, or where they wait for and why. */
  describe(): string;
  /** What the person should know at start-up (an experiment created, a fallback, an unreachable server). */
  notices(): string[];
  /**
   * For a command that prints where traces go in one line: that line (saying an experiment was just
   * made) and the notices it does not already say.
   */
  startLines(): { destination: string; notices: string[] };
  experiment(): { id: string; name?: string; url?: string } | undefined;
  traceUrl(traceId: string): string | undefined;
  /** Waits at most `waitMs` for a resolution under way (a one-shot command before it delivers). */
  settled(waitMs: number): Promise<void>;
  stop(): void;
}

export interface StartDestinationOptions {
  onResolved(destination: ResolvedDestination): void;
  /** A problem or a recovery after start-up, in one line. */
  onChange?(line: string): void;
  startWaitMs?: number;
}

/**
 * Resolves the configured destination in the background, waiting a moment for it at start. A problem
 * a person must fix, seen at start, is thrown (the person starting the command is watching); a server
 * that cannot answer is not: traces wait for it on disk.
 */
export async function startDestination(config: ResolvedConfig, options: StartDestinationOptions): Promise<DestinationRuntime> {
  refuseRunWithoutExperiment(config);
  const target = targetOf(config);
  if (!target) return localDestination(config);
  // Stopped, the command must not wait for a server that never answers (a black hole) to time out.
  const stopping = new AbortController();
  const http = connectToTracking(config, { signal: stopping.signal })?.http;
  let started = false;
  const resolution = new BackgroundResolution({
    resolve: () => resolveDestination(target, config, { ...(http && { http }) }),
    onResolved: (destination) => {
      options.onResolved(destination);
      if (started) options.onChange?.(`traces: ${describeTarget(target)} answers now; traces go to ${describeDestination(destination)}`);
    },
    onProblem: (state) => {
      if (started) options.onChange?.(`warning: ${problemLine(config, target, state)}`);
    },
  });
  const first = await resolution.start(options.startWaitMs ?? DESTINATION_START_WAIT_MS);
  const stop = () => {
    resolution.stop();
    stopping.abort();
  };
  if (first.kind === 'failing' && !first.passing) {
    stop();
    throw first.error;
  }
  started = true;

  const resolved = () => {
    const state = resolution.state;
    return state.kind === 'resolved' ? state.destination : undefined;
  };
  const experiment = () => {
    const destination = resolved();
    if (destination?.kind !== 'mlflow' && destination?.kind !== 'databricks') return undefined;
    return { ...destination.experiment, url: experimentUrl(destination.target, destination.experiment.id) };
  };
  const describe = () => {
    const state = resolution.state;
    if (state.kind === 'resolved') return describeDestination(state.destination);
    if (state.kind === 'resolving') return `${describeTarget(target)} (not answered yet)`;
    return `${describeTarget(target)} (${state.passing ? 'unreachable' : 'refusing'} since ${state.since}: ${state.problem})`;
  };
  const notices = () => {
    const state = resolution.state;
    if (state.kind === 'resolved') return [...foundNotes(state.destination), ...state.destination.notes];
    if (state.kind === 'failing') return [problemLine(config, target, state)];
    return [`${describeTarget(target)} has not answered yet: traces wait in ${config.storeDir.value} until it does`];
  };
  return {
    target,
    resolved,
    state: () => resolution.state,
    describe,
    notices,
    startLines: () => {
      const state = resolution.state;
      if (state.kind !== 'resolved') return { destination: describe(), notices: notices() };
      // The run and the experiment are in the description; that the experiment was just made is not.
      return { destination: describeJustResolved(state.destination), notices: state.destination.notes };
    },
    experiment,
    traceUrl: (traceId) => {
      const destination = resolved();
      if (!isExperimentTarget(destination?.target) || (destination.kind !== 'mlflow' && destination.kind !== 'databricks'))
        return undefined;
      return traceUrl(destination.target, destination.experiment.id, traceId);
    },
    settled: (waitMs) => resolution.settled(waitMs),
    stop,
  };
}

function problemLine(config: ResolvedConfig, target: Target, state: Extract<ResolutionState, { kind: 'failing' }>): string {
  const wait = `traces wait in ${config.storeDir.value} and go once it answers (tried again in the background; \`${commandLine('traces push')}\` sends them later too)`;
  return `${describeTarget(target)} ${state.passing ? 'cannot be reached' : 'refuses the traces'} since ${state.since}: ${state.problem}; ${wait}`;
}

function localDestination(config: ResolvedConfig): DestinationRuntime {
  const describe = () =>
    `the local store ${config.storeDir.value} (no MLflow configured: see them with \`${commandLine('traces list')}\`, send them with \`${commandLine('traces push')}\`)`;
  return {
    target: undefined,
    resolved: () => undefined,
    state: () => ({ kind: 'local' }),
    describe,
    notices: () => [],
    startLines: () => ({ destination: describe(), notices: [] }),
    experiment: () => undefined,
    traceUrl: () => undefined,
    settled: async () => {},
    stop: () => {},
  };
}
