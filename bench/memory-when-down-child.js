/**
 * Produces traces through the real pipeline (startTracing: provider → assembler → store → deliverer)
 * while the destination refuses connections, then prints its memory as JSON. Run by memory-when-down.ts.
 *
 * Plain JavaScript on the built dist/, unlike the rest of the bench: running TypeScript loads Node's
 * type stripper (~30 MB resident), which users running the published CLI never pay.
 */
import { createServer } from 'node:net';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { sendTestTrace } from '../dist/commands/doctor/test-traces.js';
import { targetKey } from '../dist/destination/target.js';
import { startTracing } from '../dist/runtime/start-tracing.js';

const [storeDir, tracesArg] = process.argv.slice(2);
const traces = Number(tracesArg);
/** Traces made between two turns of the event loop, as a busy server ends them between requests. */
const BURST = 200;

/** A port that was free a moment ago and has nothing listening on it: connections are refused. */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const target = {
  kind: 'mlflow',
  server: `http://127.0.0.1:${await closedPort()}`,
  experiment: { kind: 'id', id: { value: '0', source: { kind: 'default' } } },
};
const tracing = await startTracing({
  target,
  destination: {
    kind: 'mlflow',
    target,
    key: targetKey(target),
    experiment: { id: '0' },
    route: { via: 'otlp', encoding: 'protobuf', gzip: false },
    notes: [],
  },
  storeDir,
  origin: 'bench',
  serviceName: 'otel-mlflow-bench',
  deliverInBackground: true,
});
const startedRss = process.memoryUsage.rss();
for (let i = 0; i < traces; i++) {
  sendTestTrace(tracing.tracer, i, 'bench');
  if (i % BURST === BURST - 1) await yieldToEventLoop();
}
await tracing.flush(0);
const report = tracing.pipeline.report();
const rss = process.memoryUsage.rss();
// What is still reachable, as against what the heap merely holds on to after the churn.
globalThis.gc?.();
process.stdout.write(
  `${JSON.stringify({
    startedRss,
    rss,
    peakRss: process.resourceUsage().maxRSS * 1024,
    heapTotal: process.memoryUsage().heapTotal,
    liveHeap: process.memoryUsage().heapUsed,
    stored: report.stored,
    pending: report.pending,
    lastFailure: report.lastFailure?.answer,
  })}\n`,
);
await tracing.shutdown(0);
