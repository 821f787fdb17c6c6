import type { LoadConfigOptions } from '../../../config/types.ts';
import { ExpectedError, type ExitCode } from '../../../errors.ts';

type CheckId = 'config' | 'reachable' | 'server' | 'credentials' | 'experiment' | 'export-path' | 'send' | 'read-back';
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface CheckResult {
  id: CheckId;
  title: string;
  status: CheckStatus;
  detail: string;
  hint?: string;
  exitCode?: ExitCode;
  durationMs: number;
}

export interface DoctorReporter {
  start(id: CheckId, title: string): void;
  end(result: CheckResult): void;
}

export interface DoctorInput {
  config: LoadConfigOptions;
  traces: number;
  createExperiment: boolean;
  readBackTimeoutMs: number;
  /** Asks the person at the terminal; absent when nobody can answer (no TTY, --json). */
  confirm?: (question: string) => Promise<boolean>;
  reporter?: DoctorReporter;
}

/** What doctor was asked: what every check may read before any has run. */
export interface Asked {
  input: DoctorInput;
}

/** What a check says; the runner adds its id, title and time. */
export type Outcome = Omit<CheckResult, 'id' | 'title' | 'durationMs'>;

/** What a check adds when the checks after it count on nothing from it; `AddsNothing extends Adds` when all of `Adds` is optional. */
export type AddsNothing = Record<never, never>;

/**
 * A check's outcome, and what it adds for the checks after it. `adds` is required when it holds
 * anything they count on; a check that fails by throwing an ExpectedError adds nothing.
 */
export type Finding<Adds> = Outcome & (AddsNothing extends Adds ? { adds?: Adds } : { adds: Adds });

/** One check: what it reads (`Needs`, found by the checks before it) and what it adds (`Adds`). */
export interface Check<Needs, Adds> {
  id: CheckId;
  /** Its name in the report; a function when it depends on what was found before (read-back in local mode). */
  title: string | ((found: Partial<Needs>) => string);
  /**
   * Whether a failure skips the checks after it (the default). Only a check whose additions are all
   * optional may let the next ones run after failing: it added nothing then.
   */
  blocking?: AddsNothing extends Adds ? boolean : true;
  run: (found: Needs) => Promise<Finding<Adds>>;
}

/** A check as the runner holds it, once the list has checked what it reads against what comes before it. */
interface ListedCheck {
  id: CheckId;
  blocking: boolean;
  title(found: object): string;
  run(found: object): Promise<Finding<object>>;
}

/**
 * Checks in order, typed against each other: `followedBy` takes a check only if what it counts on is added
 * by the checks before it. What an earlier check may not have found (a server that hides its version,
 * an export path that failed) is optional in the types, and read as such.
 */
export class CheckList<Start extends object, Found> {
  readonly #checks: readonly ListedCheck[];

  private constructor(checks: readonly ListedCheck[]) {
    this.#checks = checks;
  }

  static startingWith<Start extends object>(): CheckList<Start, Start> {
    return new CheckList([]);
  }

  followedBy<Adds>(check: Check<Found, Adds>): CheckList<Start, Found & Adds> {
    const listed: ListedCheck = {
      id: check.id,
      blocking: check.blocking !== false,
      title: (found) => (typeof check.title === 'string' ? check.title : check.title(found as Partial<Found>)),
      // The runner calls a check only when every blocking check before it passed, having added what
      // its type promises; what a non-blocking check adds is optional for everything after it.
      run: (found) => check.run(found as Found) as Promise<Finding<object>>,
    };
    return new CheckList([...this.#checks, listed]);
  }

  /**
   * Runs the checks in order. A check whose blocking predecessor failed is reported as skipped, with
   * the reason; an ExpectedError thrown by a check is its failure, anything else a bug.
   */
  async run(start: Start, reporter?: DoctorReporter): Promise<{ results: CheckResult[]; found: Partial<Found> }> {
    const results: CheckResult[] = [];
    let found: object = start;
    let blockedBy: CheckResult | undefined;
    for (const check of this.#checks) {
      const title = check.title(found);
      let result: CheckResult;
      if (blockedBy) {
        result = { id: check.id, title, status: 'skipped', detail: `not run, as the check "${blockedBy.title}" failed`, durationMs: 0 };
      } else {
        const ran = await runOne(check, title, found, reporter);
        result = ran.result;
        found = { ...found, ...ran.adds };
      }
      results.push(result);
      reporter?.end(result);
      if (result.status === 'fail' && check.blocking) blockedBy = result;
    }
    return { results, found: found as Partial<Found> };
  }
}

async function runOne(
  check: ListedCheck,
  title: string,
  found: object,
  reporter: DoctorReporter | undefined,
): Promise<{ result: CheckResult; adds?: object }> {
  reporter?.start(check.id, title);
  const started = performance.now();
  const done = (outcome: Outcome): CheckResult => ({
    id: check.id,
    title,
    ...outcome,
    durationMs: Math.round(performance.now() - started),
  });
  try {
    const { adds, ...outcome } = await check.run(found);
    return { result: done(outcome), ...(adds && { adds }) };
  } catch (error) {
    if (!(error instanceof ExpectedError)) throw error;
    return { result: done({ status: 'fail', detail: error.message, exitCode: error.exitCode, ...(error.hint && { hint: error.hint }) }) };
  }
}
