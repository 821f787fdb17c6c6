import type { AuthSettings } from '../../config/types.ts';
import { connectTo } from '../../mlflow/connect.ts';
import type { MlflowHttp } from '../../mlflow/http.ts';
import { linkTracesToRun } from '../../mlflow/runs.ts';
import { classifyError, type DeliveryOutcome } from '../classify-answer.ts';
import { describeDestination, type ResolvedDestination } from '../resolved-destination.ts';
import { runLinkHeaders, type RunLink } from '../run-link.ts';
import type { OutgoingTrace, Sender } from '../sender.ts';
import { otlpSender } from './otlp-sender.ts';
import { restSender } from './rest-sender.ts';
import { ingestKeepsSessionsPlain, registerSessionsFirst } from './sessions-first.ts';

/**
 * The sender for a resolved destination, with a client of its own made from the credentials (a worker
 * thread cannot share the caller's clients, sockets or token caches).
 */
export function traceSenderFor(destination: ResolvedDestination, auth: AuthSettings): Sender<OutgoingTrace> {
  const description = describeDestination(destination);
  switch (destination.kind) {
    case 'mlflow':
    case 'databricks': {
      const { http } = connectTo(destination.target.server, auth);
      const afterAccepted = linkAfterAcceptance(http, destination.run);
      if (destination.route.via === 'rest') {
        return restSender({
          description,
          http,
          experimentId: destination.experiment.id,
          artifactUpload: destination.route.artifactUpload,
          ...(afterAccepted && { afterAccepted }),
        });
      }
      return otlpSender({
        description,
        http,
        path: '/v1/traces',
        headers: { 'x-mlflow-experiment-id': destination.experiment.id, ...runLinkHeaders(destination.run) },
        encoding: destination.route.encoding,
        gzip: destination.route.gzip,
        ...(!ingestKeepsSessionsPlain(destination.capabilities) && { beforeSend: registerSessionsFirst(http, destination.experiment.id) }),
        ...(afterAccepted && { afterAccepted }),
      });
    }
    case 'unity-catalog':
      return otlpSender({
        description,
        http: connectTo(destination.target.server, auth).http,
        path: '/api/2.0/otel/v1/traces',
        headers: { 'X-Databricks-UC-Table-Name': destination.target.table },
        encoding: 'protobuf',
        gzip: true,
      });
    case 'collector':
      return otlpSender({
        description,
        http: connectTo(destination.target.endpoint, { kind: 'none' }).http,
        path: destination.target.endpoint,
        headers: destination.headers,
        encoding: destination.encoding,
        gzip: false,
        auth: false,
      });
  }
}

/**
 * Where the server cannot link traces to a run by the request itself, they are linked once it took
 * them; until that worked they are not delivered (a run that does not find its traces is no delivery).
 */
function linkAfterAcceptance(http: MlflowHttp, link: RunLink | undefined) {
  if (link?.via !== 'link-to-run') return undefined;
  return async (traces: readonly OutgoingTrace[]): Promise<DeliveryOutcome | undefined> => {
    try {
      await linkTracesToRun(
        http,
        link.runId,
        traces.map((trace) => trace.traceId),
      );
      return undefined;
    } catch (error) {
      const outcome = classifyError(error);
      // In MLflow already: sending them again is harmless, and linking is tried again with them.
      return {
        kind: 'retry',
        ...(outcome.status !== undefined && { status: outcome.status }),
        answer: `in MLflow, but not linked to run ${link.runId} yet: ${outcome.answer}`,
      };
    }
  };
}
