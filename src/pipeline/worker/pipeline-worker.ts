import { parentPort, workerData } from 'node:worker_threads';
import { rememberSecrets } from '../../config/configured-secrets.ts';
import { Outbox } from '../outbox.ts';
import { EvaluationStore } from '../store/evaluation-store.ts';
import { loadEncoder } from '../store/lazy-encoder.ts';
import { TraceStore } from '../store/trace-store.ts';
import type { FromWorker, ToWorker, WorkerInit } from './worker-protocol.ts';
import { errorMessage } from '../../errors.ts';

/** The pipeline's worker thread: the outbox (store writes and delivery) away from the request path. */
const port = parentPort!;
const init = workerData as WorkerInit;
const send = (message: FromWorker) => port.postMessage(message);
const backlog = new Int32Array(init.backlog);
const written = (traces: number) => {
  Atomics.sub(backlog, 0, traces);
  Atomics.notify(backlog, 0);
};

rememberSecrets(init.secrets);
await loadEncoder();

let outbox: Outbox;
try {
  outbox = new Outbox({
    traces: TraceStore.open(init.storeDir, init.storeOptions),
    // Suite runs and scores left waiting for an experiment this process delivers to go along.
    evaluations: EvaluationStore.open(init.storeDir),
    auth: init.auth,
    onEvent: (event) => send({ type: 'event', event, stats: outbox.stats }),
    onWritten: written,
  });
  for (const destination of init.destinations) outbox.addDestination(destination);
  if (init.deliverInBackground) outbox.startDelivering();
} catch (error) {
  send({ type: 'failed', message: errorMessage(error) });
  throw error;
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'traces':
      outbox.add(message.traces);
      return;
    case 'store':
      outbox.addDurably(message.traces, (refusedIds) => send({ type: 'stored', id: message.id, refusedIds }));
      return;
    case 'destination':
      outbox.addDestination(message.destination);
      return;
    case 'interrupt':
      outbox.interrupt();
      return;
    case 'flush':
    case 'close': {
      const work =
        message.type === 'flush'
          ? outbox.flush(message.deadlineMs, { releaseHolds: message.releaseHolds === true })
          : outbox.close(message.deadlineMs);
      work.then(
        () => send({ type: 'done', id: message.id, stats: outbox.stats }),
        (error: unknown) => send({ type: 'failed', id: message.id, message: errorMessage(error) }),
      );
      return;
    }
  }
});
