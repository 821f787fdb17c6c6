import { chooseRoute, otlpUnavailableError, resolveDestination } from '../../../destination/resolve.ts';
import type { ResolvedDestination } from '../../../destination/resolved-destination.ts';
import { targetKey } from '../../../destination/target.ts';
import { commandLine } from '../../../invocation.ts';
import type { Check, Finding, Outcome } from './check.ts';
import type { ConfigFound } from './config.ts';
import type { ExperimentFound } from './experiment.ts';
import type { ServerFound } from './server.ts';

/** How the test traces go: `otlp` or `rest` into MLflow, `unity-catalog`, `collector`, or `local`. */
export type ExportRoute = 'otlp' | 'rest' | 'unity-catalog' | 'collector' | 'local';

/** The destination the test traces are sent to (none in local mode), and how they travel. */
export interface ExportPathFound {
  resolved?: ResolvedDestination;
  exportRoute?: ExportRoute;
}

/**
 * The resolver's last step for an experiment (its route, from what the server and experiment checks
 * found), or the whole resolution for a table or a collector. It does not block: the send check says
 * why nothing can go.
 */
export const exportPathCheck: Check<ConfigFound & ServerFound & ExperimentFound, ExportPathFound> = {
  id: 'export-path',
  title: 'Export path',
  blocking: false,
  async run({ config, server, sendTo }) {
    switch (sendTo.kind) {
      case 'local':
        return { ...describeLocal(sendTo.storeDir), adds: { exportRoute: 'local' } };
      case 'collector':
        return routeFound(await resolveDestination(sendTo.target, config));
      case 'unity-catalog':
        return routeFound(await resolveDestination(sendTo.target, config, { http: sendTo.http }));
      case 'mlflow':
      case 'databricks':
        return routeFound(
          await chooseRoute(sendTo.http, config, {
            target: sendTo.target,
            key: targetKey(sendTo.target),
            experiment: sendTo.experiment,
            ...(sendTo.run && { run: sendTo.run }),
            ...(server && { capabilities: server.capabilities }),
          }),
        );
    }
  },
};

function routeFound(resolved: ResolvedDestination): Finding<ExportPathFound> {
  const exportRoute = resolved.kind === 'mlflow' || resolved.kind === 'databricks' ? resolved.route.via : resolved.kind;
  return { ...describeRoute(resolved), adds: { resolved, exportRoute } };
}

function describeRoute(destination: ResolvedDestination): Outcome {
  switch (destination.kind) {
    case 'mlflow':
    case 'databricks': {
      const { route, notes } = destination;
      if (route.via === 'otlp') {
        return {
          status: 'ok',
          detail: `OTLP/HTTP ${route.encoding}${route.gzip ? ' + gzip' : ''} to /v1/traces${notes.length ? ` (${notes.join('; ')})` : ''}`,
        };
      }
      if (route.otlpUnavailable) {
        // Traces still go over REST below, but OpenTelemetry SDKs and collectors cannot send here.
        const error = otlpUnavailableError(route.otlpUnavailable, destination.target.server);
        return {
          status: 'fail',
          exitCode: error.exitCode,
          detail: `${error.message}; falling back to MLflow REST for the test traces`,
          ...(error.hint && { hint: error.hint }),
        };
      }
      return { status: 'ok', detail: `MLflow REST (StartTraceV3 + traces.json): ${notes.join('; ')}` };
    }
    case 'unity-catalog':
      return { status: 'ok', detail: `OTLP/HTTP protobuf to Unity Catalog table ${destination.target.table}` };
    case 'collector':
      return { status: 'ok', detail: `OTLP/HTTP ${destination.encoding} to ${destination.target.endpoint}` };
  }
}

function describeLocal(dir: string): Outcome {
  return {
    status: 'warn',
    detail: `no MLflow is configured: traces are kept in the local store ${dir}`,
    hint: `set MLFLOW_TRACKING_URI (or run \`${commandLine('init')}\`), then \`${commandLine('traces push')}\` sends them to MLflow`,
  };
}
