import type { ResolvedConfig } from '../config/types.ts';
import { ExitCode, ExpectedError } from '../errors.ts';
import { LocalTraceStore } from '../local-store/local-trace-store.ts';
import { connectToTracking } from '../mlflow/connect.ts';
import type { HealthInfo } from '../server/api-schemas.ts';
import { localLookup, mlflowLookup, type TraceLookup } from './verify-traces.ts';
import { commandLine } from '../util/invocation.ts';

/**
 * Where `--verify` reads the server's traces back from, decided by where its health JSON says they
 * go, and reached with this process's own configuration. Decided before any question is asked, so
 * a run that cannot be verified fails at once.
 */
export function readBackSource(health: HealthInfo, config: ResolvedConfig): TraceLookup {
  const { route, destination } = health.tracing;
  if (route === 'local') return localLookup(new LocalTraceStore(config.storeDir.value));
  if (route === 'otlp' || route === 'rest') {
    const connection = connectToTracking(config);
    if (!connection) {
      throw new ExpectedError(`the server sends its traces to ${destination}, but no MLflow is configured here to read them back from`, {
        exitCode: ExitCode.config,
        hint: 'set MLFLOW_TRACKING_URI (and its credentials) as the server has them, or run with --spawn',
      });
    }
    return mlflowLookup(connection.http);
  }
  throw new ExpectedError(`--verify cannot read traces back from ${destination}`, {
    exitCode: ExitCode.usage,
    hint: `--verify reads traces from an MLflow experiment or the local store; \`${commandLine('doctor')}\` checks other destinations`,
  });
}
