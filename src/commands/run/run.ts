import { setTimeout as delay } from 'node:timers/promises';
import type { CommandContext } from '../../cli/context.ts';
import { paintedSummary, receivedDelivery, summarizeDelivery } from '../../cli/delivery-summary.ts';
import { createPainter, writeLine, writeNotices } from '../../cli/output.ts';
import { interruptedBy, onWrapperGone } from '../../cli/until-signal.ts';
import { copiesOfLastRequest, onStopRequestThenNow } from '../../cli/stop-requests.ts';
import { loadConfig } from '../../config/load-config.ts';
import type { ResolvedConfig } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { turnedAwayCounts } from '../../relay/relay-ingest.ts';
import type { RouteState } from '../../relay/relay-routes.ts';
import { startRelay, type RunningRelay } from '../../relay/start-relay.ts';
import { programEnv } from './program-env.ts';
import { exitCodeOf, runProgram, type ProgramExit, type RunProgramOptions } from './program-process.ts';
import { createSpool, spoolRoots, spoolSettings, type Spool } from '../../pipeline/spool/spool.ts';
import { takeInSpool } from '../../pipeline/spool/spool-intake.ts';
import { lossesOf, writeSpoolLines } from '../../cli/spool-lines.ts';
import type { RunOptions } from './run-options.ts';

/**
 * Runs the program with its traces going through the tool's receiver into the store and on to the
 * destination; ends as the program ended, once its traces are on disk and delivered (or waiting).
 */
export async function run(ctx: CommandContext, options: RunOptions, command: string[]): Promise<number> {
  if (command.length === 0) {
    throw new ExpectedError('run needs the program to run after `--`', {
      exitCode: ExitCode.usage,
      hint: 'e.g. `otel-mlflow run -- node server.js`',
    });
  }
  if (command[0] === '') {
    throw new ExpectedError('the program to run after `--` is an empty word', {
      exitCode: ExitCode.usage,
      hint: 'name it (e.g. `otel-mlflow run -- node server.js`); a variable meant to name it may be unset',
    });
  }
  const config = await loadConfig({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags, purpose: 'app' });
  if (config.tracing.disabled.value) {
    const exit = await runProgram(command, { ...ctx.env }, ctx.cwd, programOptions(ctx, options));
    writeLine(ctx.stderr, summarizeDelivery(undefined).line);
    return exitCodeOf(exit);
  }

  // Before the program's own output: what the configuration says that its author most likely did not mean.
  const paint = createPainter(ctx);
  writeNotices(ctx.stderr, config.notices, paint.yellow);
  const { relay, spool } = await receiveFor(config);
  // Batches the receiver turned away while its disk was behind come back from the spool while the program runs.
  const intake = takeInSpool(spool, { tracesUrl: `${relay.httpUrl}/v1/traces` });
  const isCopy = copiesOfLastRequest();
  let exit: ProgramExit;
  try {
    const env = programEnv(ctx.env, config, relay.httpUrl, spool.dirs, { command, cwd: ctx.cwd });
    exit = await runProgram(command, env, ctx.cwd, { ...programOptions(ctx, options), isCopy });
  } catch (error) {
    await intake.end(Date.now());
    await relay.close(0);
    throw error;
  }
  const interrupt = new AbortController();
  const stopListening = onStopRequestThenNow(DELIVERY_STOPS, (signal) => interrupt.abort(signal), isCopy);
  const deadline = Date.now() + options.deliverTimeout * 1000;
  const spoolEnd = await intake.end(deadline, interrupt.signal);
  await routesSettled(relay, deadline, interrupt.signal);
  const closed = await relay.close(Math.max(0, deadline - Date.now()), interrupt.signal);
  stopListening();
  const { counters } = closed;
  const notFound = unresolved(closed.destinations);
  const summary = summarizeDelivery({
    ...receivedDelivery(closed),
    ...(notFound && { unresolved: notFound }),
    ...interruptedBy(interrupt.signal),
  });
  writeLine(ctx.stderr, paintedSummary(paint, summary));
  const lostBatches = lossesOf(counters.lostBatches, spoolEnd);
  // A trace turned away and then taken (the program's next try, or the spool's intake once delivery made room) is stored.
  if (turnedAwayCounts(counters.turnedAway).notSentAgain > 0) {
    const kept = lostBatches > 0 ? 'kept what it could in the spool' : 'kept them in the spool';
    const why = closed.report.refusedReason ?? 'the store refused them';
    writeLine(ctx.stderr, paint.yellow(`the store could not take all the program's spans (${why}): the program ${kept}`));
  }
  writeSpoolLines(ctx.stderr, paint, spoolEnd, lostBatches);
  return exitCodeOf(exit);
}

/**
 * The rest of a stopping program is waited for as long as its traces are. Started through npx or
 * the launcher, the program is stopped as on SIGTERM when they go away: `kill -TERM` on npx ends npm
 * and its shell without passing the signal on, and the program would go on running, orphaned.
 */
function programOptions(ctx: CommandContext, options: RunOptions): RunProgramOptions {
  return {
    restMs: options.deliverTimeout * 1000,
    stopWhen: (stop) =>
      onWrapperGone(ctx.env, (reason) => {
        writeLine(ctx.stderr, `${reason}: stopping the program`);
        stop();
      }),
  };
}

/**
 * The receiver, store and spool the program's traces go through. When they cannot start (a store
 * that cannot be opened), the program is not started either, and the error says so and how to run it
 * untraced.
 */
async function receiveFor(config: ResolvedConfig): Promise<{ relay: RunningRelay; spool: Spool }> {
  const captureContent = config.llm.captureContent.value;
  let relay: RunningRelay | undefined;
  try {
    relay = await startRelay({ config, host: '127.0.0.1', port: 0, grpcPort: null, captureContent });
    return { relay, spool: await createSpool(spoolRoots(config.storeDir.value), spoolSettings(config, captureContent)) };
  } catch (error) {
    await relay?.close(0);
    if (!(error instanceof ExpectedError)) throw error;
    throw new ExpectedError(`${error.message}\nthe program was not started`, {
      exitCode: error.exitCode,
      hint: `${error.hint ? `${error.hint}; ` : ''}OTEL_SDK_DISABLED=true runs it untraced`,
      cause: error,
    });
  }
}

/** Why traces wait without a delivery ever tried: the destinations never found, each with its problem. */
function unresolved(destinations: readonly RouteState[]): string | undefined {
  const problems = destinations
    .filter((route) => !route.resolved && route.problem)
    .map((route) => `${route.description}: ${route.problem}`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/**
 * Once the program has ended, a request to stop cuts the delivery of its traces short: what is not
 * delivered waits on disk, and the closing line says so. Another request exits at once.
 */
const DELIVERY_STOPS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** How often the end of a run looks whether the destination has been found. */
const SETTLED_CHECK_MS = 50;

/**
 * A program shorter than the destination's resolution (finding the experiment, the server's version:
 * seconds on a slow workspace) must not leave its traces pending for want of waiting: closing stops
 * the resolution. Waits until every route is resolved or has failed once, within the deadline.
 */
async function routesSettled(relay: RunningRelay, deadline: number, interrupt: AbortSignal): Promise<void> {
  const settled = () => relay.health().destinations.every((route) => route.resolved || route.problem !== undefined);
  while (!settled() && Date.now() < deadline && !interrupt.aborted) {
    await delay(SETTLED_CHECK_MS, undefined, { signal: interrupt }).catch(() => undefined);
  }
}
