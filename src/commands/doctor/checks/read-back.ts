import { ExitCode } from '../../../errors.ts';
import type { MlflowHttp } from '../../../mlflow/http.ts';
import { searchTraces } from '../../../mlflow/traces.ts';
import { storedTraceSource } from '../../../read-back/stored-trace-source.ts';
import { mlflowTraceSource, type TraceSource } from '../../../read-back/trace-source.ts';
import { TraceStore } from '../../../pipeline/store/trace-store.ts';
import { plural } from '../../../util/plural.ts';
import { readBackTrace, type ReadBackTrace } from '../read-back.ts';
import type { Asked, Check, Finding } from './check.ts';
import type { ConfigFound } from './config.ts';
import type { ExperimentFound } from './experiment.ts';
import type { SendFound } from './send.ts';

/** What was read back of each exported test trace; nothing from a collector or a table. */
export interface ReadBackFound {
  readBack?: ReadBackTrace[];
}

export const readBackCheck: Check<Asked & ConfigFound & ExperimentFound & SendFound, ReadBackFound> = {
  id: 'read-back',
  title: ({ where }) => (where?.kind === 'local' ? 'Read traces back from the local store' : 'Read traces back from MLflow'),
  async run({ input, sendTo, exported }) {
    const deadline = Date.now() + input.readBackTimeoutMs;
    const readBack = (source: TraceSource) => Promise.all(exported.map((trace) => readBackTrace(trace, { source, deadline })));
    switch (sendTo.kind) {
      case 'collector':
        return { status: 'skipped', detail: 'a collector cannot be read back; look for the traces in its backend' };
      case 'unity-catalog':
        return { status: 'skipped', detail: `query the table with SQL to see them: SELECT * FROM ${sendTo.target.table}` };
      case 'local': {
        const store = TraceStore.open(sendTo.storeDir);
        try {
          return verdict(await readBack(storedTraceSource(store)), input.readBackTimeoutMs, ` in ${sendTo.storeDir}`);
        } finally {
          store.close();
        }
      }
      case 'mlflow':
      case 'databricks': {
        const results = await readBack(mlflowTraceSource(sendTo.http, sendTo.kind));
        if (sendTo.run) await checkFoundByRun(sendTo.http, sendTo.experiment.experiment.experimentId, sendTo.run.runId, results);
        return verdict(results, input.readBackTimeoutMs, '');
      }
    }
  },
};

function verdict(results: ReadBackTrace[], timeoutMs: number, where: string): Finding<ReadBackFound> {
  const broken = results.filter((r) => r.problems.length > 0);
  if (broken.length > 0) {
    return {
      status: 'fail',
      exitCode: ExitCode.readback,
      detail: `${results.length - broken.length} of ${plural(results.length, 'trace')} verified; ${broken.map((r) => `${r.traceId}: ${r.problems.join(', ')}`).join('; ')}`,
      hint: `traces were accepted but did not read back intact within ${Math.round(timeoutMs / 1000)} s; raise --timeout, or check the server log`,
      adds: { readBack: results },
    };
  }
  return {
    status: 'ok',
    detail: `${plural(results.length, 'trace')} found${where} with ${results[0]?.spanNames.length ?? 0} spans each, span types, token usage and previews intact`,
    adds: { readBack: results },
  };
}

/** As MLflow's Python client finds a run's traces: `search_traces(run_id=…)` in the run's experiment. */
async function checkFoundByRun(http: MlflowHttp, experimentId: string, runId: string, results: ReadBackTrace[]): Promise<void> {
  const { traces } = await searchTraces(http, { experimentIds: [experimentId], filter: `attribute.run_id = '${runId}'`, maxResults: 100 });
  const found = new Set(traces.map((trace) => trace.traceId));
  for (const result of results) if (result.found && !found.has(result.traceId)) result.problems.push(`not found by its run ${runId}`);
}
