/**
 * What MLflow's Python client does for `search_traces(run_id=…)` (mlflow/tracing/client.py): reads
 * the run for its experiment, then searches that experiment with the filter `attribute.run_id = '<run>'`.
 */
export async function traceIdsOfRun(mlflowUrl: string, runId: string): Promise<string[]> {
  const run = (await (await fetch(`${mlflowUrl}/api/2.0/mlflow/runs/get?run_id=${runId}`)).json()) as {
    run: { info: { experiment_id: string } };
  };
  const answer = await fetch(`${mlflowUrl}/api/3.0/mlflow/traces/search`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: run.run.info.experiment_id } }],
      filter: `attribute.run_id = '${runId}'`,
      max_results: 100,
    }),
  });
  const found = (await answer.json()) as { traces?: { trace_id: string }[] };
  return (found.traces ?? []).map((trace) => trace.trace_id).sort();
}

/** serve delivers in the background: its traces land in MLflow moments after it answered. */
export async function waitForTracesOfRun(mlflowUrl: string, runId: string, count: number, deadlineMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + deadlineMs;
  let found = await traceIdsOfRun(mlflowUrl, runId);
  while (found.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    found = await traceIdsOfRun(mlflowUrl, runId);
  }
  return found;
}
