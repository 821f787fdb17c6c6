import type { CommandContext } from '../../cli/context.ts';
import { paintedSummary, receivedDelivery, summarizeDelivery } from '../../cli/delivery-summary.ts';
import { deliveryWarnings } from '../../cli/delivery-warnings.ts';
import { createPainter, writeLine, writeNotices } from '../../cli/output.ts';
import { interruptedBy, untilSignal } from '../../cli/until-signal.ts';
import { loadConfig } from '../../config/load-config.ts';
import type { ResolvedConfig } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { describeJustResolved, type ResolvedDestination } from '../../destination/resolved-destination.ts';
import { MOST_FOLLOWED, turnedAwayCounts } from '../../relay/relay-ingest.ts';
import { startRelay } from '../../relay/start-relay.ts';
import { adoptSpool, spoolRoots, spoolSettings } from '../../pipeline/spool/spool.ts';
import { takeInSpool } from '../../pipeline/spool/spool-intake.ts';
import { lossesOf, writeSpoolLines } from '../../cli/spool-lines.ts';
import { plural } from '../../util/plural.ts';
import type { RelayOptions } from './relay-options.ts';

/** How long the last traces may take to leave after the receivers stopped. */
const SHUTDOWN_FLUSH_MS = 10_000;

export async function run(ctx: CommandContext, options: RelayOptions): Promise<number> {
  const { host, port, grpcPort } = options;
  const paint = createPainter(ctx);
  const config = await loadConfig({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags, purpose: 'app' });
  refuseLoop(config, host, port);
  writeNotices(ctx.stdout, config.notices, paint.yellow);

  // Each route once, by its experiment's name and id: a client names its experiment by id alone.
  const announced = new Set<string>();
  let started = false;
  const announce = (destination: ResolvedDestination) => {
    if (!started || announced.has(destination.key)) return;
    announced.add(destination.key);
    writeLine(ctx.stdout, `traces go to ${describeJustResolved(destination)}`);
  };
  const relay = await startRelay({
    config,
    host,
    port,
    grpcPort,
    ...(config.authToken && { authToken: config.authToken.value }),
    onEvent: deliveryWarnings((line) => writeLine(ctx.stderr, paint.yellow(line))),
    onRouteResolved: announce,
  });
  // What stopped runs with these settings left in the spool: the relay is the receiver they would have sent it to.
  const spool = await adoptSpool(spoolRoots(config.storeDir.value), spoolSettings(config, true));
  const intake = takeInSpool(spool, {
    tracesUrl: `${loopback(relay.httpUrl)}/v1/traces`,
    ...(config.authToken && { headers: { authorization: `Bearer ${config.authToken.value}` } }),
  });
  const health = relay.health();
  // Before the line that says it listens: a SIGTERM sent on reading it must find the relay ready to shut down.
  const stops = untilSignal(ctx.env);
  writeLine(
    ctx.stdout,
    `otel-mlflow relay: OTLP/HTTP on ${paint.cyan(health.receivers.http)}${health.receivers.grpc ? `, OTLP/gRPC on ${paint.cyan(health.receivers.grpc)}` : ''}`,
  );
  writeLine(
    ctx.stdout,
    `point OpenTelemetry apps at it: OTEL_EXPORTER_OTLP_ENDPOINT=${relay.httpUrl}${health.receivers.grpc ? ` (gRPC: http://${health.receivers.grpc})` : ''}`,
  );
  for (const route of health.destinations) {
    writeLine(
      ctx.stdout,
      route.resolved
        ? `traces go to ${route.description}`
        : paint.yellow(
            `traces for ${route.description} wait in ${health.store_dir}: ${route.problem ?? 'not resolved yet'}; retried while the relay runs`,
          ),
    );
  }
  if (health.destinations.length === 0)
    writeLine(ctx.stdout, `no MLflow configured: traces are kept in ${health.store_dir} (\`traces list\`, \`traces push\`)`);
  const routes = Object.entries(config.relayExperiments.value);
  if (routes.length > 0)
    writeLine(ctx.stdout, `by service.name: ${routes.map(([service, experiment]) => `${service} → ${experiment}`).join(', ')}`);
  if (config.authToken) writeLine(ctx.stdout, 'OTLP requests must carry Authorization: Bearer <token>');
  for (const route of health.destinations) if (route.resolved) announced.add(route.key);
  started = true;

  const reason = await stops.first;
  writeLine(
    ctx.stdout,
    `${reason}: no longer receiving; storing and delivering what arrived (up to ${SHUTDOWN_FLUSH_MS / 1000} s); a second request stops waiting`,
  );
  // One last round, not a wait for a store that is full: what is left is taken in by the next relay, run or push.
  const spoolEnd = await intake.end(Date.now());
  const closed = await relay.close(SHUTDOWN_FLUSH_MS, stops.interrupt);
  const { counters } = closed;
  const received =
    `relay: received ${plural(counters.spans, 'span')} in ${plural(counters.requests, 'request')}` +
    (counters.rejectedRequests ? `, ${counters.rejectedRequests} refused` : '') +
    (counters.deferredRequests ? `, ${counters.deferredRequests} asked to retry` : '') +
    (counters.repairedStrings ? `, ${plural(counters.repairedStrings, 'string')} not valid UTF-8 kept repaired` : '');
  writeLine(ctx.stdout, received);
  // What the store turned away was answered 503, for its sender to send again: counted below, by trace, not per try.
  const summary = summarizeDelivery({ ...receivedDelivery(closed), ...interruptedBy(stops.interrupt) });
  writeLine(ctx.stdout, paintedSummary(paint, summary));
  const turnedAway = turnedAwayLine(counters.turnedAway, closed.report.refusedReason);
  if (turnedAway) writeLine(ctx.stdout, turnedAway.neverBack > 0 ? paint.red(turnedAway.text) : paint.yellow(turnedAway.text));
  const lostBatches = lossesOf(counters.lostBatches, spoolEnd);
  writeSpoolLines(ctx.stdout, paint, spoolEnd, lostBatches);
  const lost = summary.lost || (turnedAway?.neverBack ?? 0) > 0 || lostBatches > 0;
  return lost || summary.pending || spoolEnd.left > 0 ? ExitCode.export : ExitCode.ok;
}

/** The relay's own address to reach it at: one listening on every interface is reached on loopback. */
function loopback(url: string): string {
  return url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}

/** The traces the full store turned away, each once: those their senders sent again, and those they did not, which are theirs to keep. */
function turnedAwayLine(
  turnedAway: ReadonlyMap<string, boolean>,
  why = 'the store refused them',
): { text: string; neverBack: number } | undefined {
  const { traces, notSentAgain: neverBack } = turnedAwayCounts(turnedAway);
  if (traces === 0) return undefined;
  const followed = traces === MOST_FOLLOWED ? ` (the first ${MOST_FOLLOWED} followed)` : '';
  const text =
    `the store turned ${plural(traces, 'trace')} away${followed} (${why}), asking their senders to send them again: ` +
    (neverBack === 0
      ? 'all came back and were stored'
      : `${cameBack(traces - neverBack)}${neverBack} did not (lost, unless their senders kept them)`);
  return { text, neverBack };
}

function cameBack(traces: number): string {
  if (traces === 0) return '';
  return `${traces} came back and ${traces === 1 ? 'was' : 'were'} stored, `;
}

/** A relay whose destination is itself would send every span round in a circle. */
function refuseLoop(config: ResolvedConfig, host: string, port: number): void {
  const destination = config.destination;
  if (destination.kind !== 'collector') return;
  const target = new URL(destination.endpoint.value);
  const targetPort = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  const local = new Set(['127.0.0.1', 'localhost', '[::1]', '0.0.0.0', host]);
  if (targetPort === port && local.has(target.hostname)) {
    throw new ExpectedError(
      `the relay would send traces to itself: OTEL_EXPORTER_OTLP_ENDPOINT is ${destination.endpoint.value}, where it listens`,
      {
        exitCode: ExitCode.config,
        hint: 'that variable is for the apps that send to the relay; give the relay MLFLOW_TRACKING_URI (or another collector) in its own environment',
      },
    );
  }
}
