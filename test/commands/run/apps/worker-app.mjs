// A service that hands each question to a worker thread, which calls the model and answers back.
import { createServer } from 'node:http';
import { Worker } from 'node:worker_threads';

function askInWorker(question) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./llm-worker.mjs', import.meta.url), { workerData: { question } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const answer = await askInWorker(JSON.parse(body).question);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ answer }));
});
server.listen(0, '127.0.0.1', () => console.log(`worker-app listening on http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => server.close());
