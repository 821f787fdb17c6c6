import type { CommandContext } from '../../cli/context.ts';
import { summarizeDelivery } from '../../cli/delivery-summary.ts';
import { deliveryWarnings } from '../../cli/delivery-warnings.ts';
import { createPainter, writeLine } from '../../cli/output.ts';
import { untilSignal } from '../../cli/until-signal.ts';
import { loadConfig } from '../../config/load-config.ts';
import type { ResolvedConfig } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { describeJustResolved, type ResolvedDestination } from '../../destination/resolved-destination.ts';
import { startRelay } from '../../relay/start-relay.ts';
import { plural } from '../../util/plural.ts';
import type { RelayOptions } from './relay-options.ts';

/** How long the last traces may take to leave after the receivers stopped. */
const SHUTDOWN_FLUSH_MS = 10_000;

export async function run(ctx: CommandContext, options: RelayOptions): Promise<number> {
  const { host, port, grpcPort } = options;
  const paint = createPainter(ctx);
  const config = await loadConfig({ cwd: ctx.cwd, env: ctx.env, homeDir: ctx.homeDir, flags: ctx.flags, purpose: 'app' });
  refuseLoop(config, host, port);

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
  const health = relay.health();
  // Before the line that says it listens: a SIGTERM sent on reading it must find the relay ready to shut down.
  const signalled = untilSignal(ctx.env);
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

  const reason = await signalled;
  writeLine(ctx.stdout, `${reason}: no longer receiving; storing and delivering what arrived (up to ${SHUTDOWN_FLUSH_MS / 1000} s)`);
  const { report, counters, traces, destinations } = await relay.close(SHUTDOWN_FLUSH_MS);
  const received =
    `relay: received ${plural(counters.spans, 'span')} in ${plural(counters.requests, 'request')}` +
    (counters.rejectedRequests ? `, ${counters.rejectedRequests} refused` : '') +
    (counters.deferredRequests ? `, ${counters.deferredRequests} asked to retry` : '') +
    (counters.repairedStrings ? `, ${plural(counters.repairedStrings, 'string')} not valid UTF-8 kept repaired` : '');
  writeLine(ctx.stdout, received);
  const summary = summarizeDelivery({
    ...report,
    ...(destinations.length > 0 && { destination: destinations.map((route) => route.description).join('; ') }),
    pending: traces.pending,
  });
  writeLine(ctx.stdout, summary.lost ? paint.red(summary.line) : summary.pending ? paint.yellow(summary.line) : summary.line);
  return summary.lost || summary.pending ? ExitCode.export : ExitCode.ok;
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
