import type { ResolvedConfig } from '../../config/types.ts';
import { mlflowTraceSource } from '../../read-back/trace-source.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { storedTraceSource } from '../../read-back/stored-trace-source.ts';
import { TraceStore } from '../../pipeline/store/trace-store.ts';
import { connectToTracking } from '../../mlflow/connect.ts';
import type { HealthInfo } from '../../agent/api-schemas.ts';
import type { ReadBackFrom } from './verify-traces.ts';
import { commandLine } from '../../invocation.ts';

/**
 * Where `--verify` reads the server's traces back from, decided by where its health JSON says they
 * go: the server's own local store (which may not be this process's default), or MLflow reached
 * with this process's configuration. Decided before any question is asked, so a run that cannot be
 * verified fails at once.
 */
export function readBackSource(health: HealthInfo, config: ResolvedConfig): ReadBackFrom {
  const { route, destination, store_dir: storeDir } = health.tracing;
  // A server from before store_dir was reported keeps its traces where this configuration says.
  if (route === 'local') return { kind: 'local', source: storedTraceSource(TraceStore.open(storeDir ?? config.storeDir.value)) };
  if (route === 'otlp' || route === 'rest') {
    const connection = connectToTracking(config);
    if (!connection) {
      throw new ExpectedError(`the server sends its traces to ${destination}, but no MLflow is configured here to read them back from`, {
        exitCode: ExitCode.config,
        hint: 'set MLFLOW_TRACKING_URI (and its credentials) as the server has them, or run with --spawn',
      });
    }
    const spansFrom = config.destination.kind === 'databricks' ? 'databricks' : 'mlflow';
    return { kind: 'mlflow', source: mlflowTraceSource(connection.http, spansFrom) };
  }
  throw new ExpectedError(`--verify cannot read traces back from ${destination}`, {
    exitCode: ExitCode.usage,
    hint: `--verify reads traces from an MLflow experiment or the local store; \`${commandLine('doctor')}\` checks other destinations`,
  });
}
