import { ExitCode, ExpectedError, errorMessage } from '../errors.ts';
import { MlflowApiError } from '../mlflow/errors.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { ResolvedDestination } from './resolved-destination.ts';

/**
 * How long start-up waits for the destination before going on without it: long enough for a server
 * that answers, short enough that one that hangs never holds up a command.
 */
export const DESTINATION_START_WAIT_MS = 1_000;

export type ResolutionState =
  | { kind: 'resolving' }
  | { kind: 'resolved'; destination: ResolvedDestination }
  /**
   * The last try failed. `passing`: the server could not answer (down, hanging, failing, a proxy in
   * the way) and is tried again soon; otherwise it answered with a problem a person must fix (a
   * deleted experiment, a run of another experiment), and it is asked again now and then.
   */
  | { kind: 'failing'; since: string; problem: string; passing: boolean; error: unknown };

export interface BackgroundResolutionOptions {
  resolve(): Promise<ResolvedDestination>;
  onResolved(destination: ResolvedDestination): void;
  /** Each new problem, once (a recovery ends it). */
  onProblem?(state: Extract<ResolutionState, { kind: 'failing' }>): void;
  clock?: Clock;
  /** The first retry after a passing failure; it doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  /** How often a problem a person must fix is looked at again. */
  recheckMs?: number;
}

/**
 * A target resolved in the background, as long as it takes: a command starts at once whether MLflow
 * answers, refuses, hangs or fails, its traces wait on disk for the target, and they leave once it
 * resolves. The one fixed order of resolution is `resolveDestination`'s; this only retries it.
 */
export class BackgroundResolution {
  readonly #options: BackgroundResolutionOptions;
  readonly #clock: Clock;
  #state: ResolutionState = { kind: 'resolving' };
  #attempt: Promise<void> | undefined;
  #timer: unknown;
  #failures = 0;
  #stopped = false;

  constructor(options: BackgroundResolutionOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  get state(): ResolutionState {
    return this.#state;
  }

  /** Starts resolving (once); resolves when the first try ended or `waitMs` passed, with the state then. */
  async start(waitMs: number): Promise<ResolutionState> {
    if (!this.#attempt && this.#state.kind !== 'resolved') this.#try();
    await this.settled(waitMs);
    return this.#state;
  }

  /** Waits at most `waitMs` for the try under way, if any. */
  async settled(waitMs: number): Promise<void> {
    const attempt = this.#attempt;
    if (!attempt) return;
    let timer: unknown;
    await Promise.race([attempt, new Promise<void>((resolve) => (timer = this.#clock.setTimeout(resolve, waitMs)))]);
    this.#clock.clearTimeout(timer);
  }

  /** Tries again now, unless it is resolved or a try is under way (a client named the route again). */
  retryNow(): void {
    if (this.#state.kind === 'resolved' || this.#attempt || this.#stopped) return;
    this.#clock.clearTimeout(this.#timer);
    this.#try();
  }

  stop(): void {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
  }

  #try(): void {
    this.#attempt = this.#options
      .resolve()
      .then(
        (destination) => {
          this.#state = { kind: 'resolved', destination };
          this.#failures = 0;
          if (!this.#stopped) this.#options.onResolved(destination);
        },
        (error: unknown) => {
          // Stopped meanwhile (its requests cut short): nobody is waiting for news.
          if (this.#stopped) return;
          const passing = isPassingFailure(error);
          const problem = errorMessage(error);
          const previous = this.#state;
          const since = previous.kind === 'failing' ? previous.since : new Date(this.#clock.now()).toISOString();
          this.#state = { kind: 'failing', since, problem, passing, error };
          if (previous.kind !== 'failing' || previous.problem !== problem) this.#options.onProblem?.(this.#state);
          this.#failures++;
          const retryMs = this.#options.retryMs ?? 1_000;
          const delay = passing
            ? Math.min(this.#options.maxRetryMs ?? 30_000, retryMs * 2 ** (this.#failures - 1))
            : (this.#options.recheckMs ?? 60_000);
          this.#timer = this.#clock.setTimeout(() => this.#try(), delay);
        },
      )
      .finally(() => {
        this.#attempt = undefined;
      });
  }
}

/**
 * A failure that says nothing about the configuration: no answer at all, a server error, a busy
 * server, or an answer that is not MLflow's (a proxy, a login page, a redirect, an oversized body).
 */
export function isPassingFailure(error: unknown): boolean {
  if (error instanceof MlflowApiError)
    return error.status < 400 || error.status >= 500 || error.status === 408 || error.status === 429 || error.fromProxy;
  // No answer, or none a tool can read as MLflow's (a page, an oversized body): whatever is in the way may be gone by the next try.
  return error instanceof ExpectedError && error.exitCode === ExitCode.unreachable;
}
