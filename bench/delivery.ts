import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthProvider } from '../src/workspace-auth/auth.ts';
import { createMlflowHttp } from '../src/mlflow/http.ts';
import { Deliverer } from '../src/pipeline/deliver/deliverer.ts';
import { otlpSender } from '../src/destination/senders/otlp-sender.ts';
import { TraceStore } from '../src/pipeline/store/trace-store.ts';
import { bestIngestRate, startCostlyMlflow } from '../test/fakes/costly-mlflow.ts';
import { copiesOf, doctorTrace } from './doctor-traces.ts';
import { median, type Row } from './stats.ts';

const DESTINATION = 'bench-costly-mlflow';

/**
 * A Deliverer draining a store of pending doctor traces into a fake MLflow that costs what the real
 * one costs, against the best rate that server allows (every trace in one request).
 */
export async function benchDelivery(options: { traces: number; rounds: number }): Promise<Row[]> {
  const template = doctorTrace();
  const mlflow = await startCostlyMlflow({ version: '3.14.1.dev0' });
  const rates: number[] = [];
  let requests = 0;
  try {
    for (let round = 0; round < options.rounds; round++) {
      const dir = mkdtempSync(join(tmpdir(), 'otel-mlflow-bench-deliver-'));
      const store = TraceStore.open(dir);
      try {
        store.writes.write(copiesOf(template, options.traces, { destination: DESTINATION }));
        const deliverer = new Deliverer({
          queue: store.outbox,
          key: DESTINATION,
          sender: otlpSender({
            description: 'costly fake MLflow',
            http: createMlflowHttp({ baseUrl: mlflow.url, auth: createAuthProvider({ kind: 'none' }) }),
            path: '/v1/traces',
            headers: { 'x-mlflow-experiment-id': '0' },
            encoding: 'protobuf',
            gzip: false,
          }),
        });
        const started = performance.now();
        await deliverer.drain({ deadlineMs: 600_000 });
        const elapsedS = (performance.now() - started) / 1000;
        deliverer.stop();
        const counts = store.reads.counts(DESTINATION);
        if (counts.delivered !== options.traces)
          throw new Error(`the deliverer left ${JSON.stringify(counts)} of ${options.traces} traces`);
        rates.push(options.traces / elapsedS);
        requests = deliverer.stats.requests;
      } finally {
        store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await mlflow.close();
  }
  const rate = median(rates);
  const best = bestIngestRate(mlflow.cost, options.traces, template.length);
  return [
    {
      name: `deliver ${options.traces} traces to costly fake MLflow / its best`,
      raw: `${rate.toFixed(0)} / ${best.toFixed(0)} traces/s in ${requests} requests`,
      ratio: rate / best,
      target: '≥ 0.80×',
      met: rate / best >= 0.8,
    },
  ];
}
