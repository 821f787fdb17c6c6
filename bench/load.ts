import { Agent, request } from 'node:http';
import { quantile } from './stats.ts';

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Keeps `connections` keep-alive connections busy with POSTs of `body` for `durationMs`: each sends
 * its next request as soon as the last answer is read, as a client pool in front of a service does.
 */
export async function driveLoad(url: string, body: string, options: { connections: number; durationMs: number }): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const target = new URL(url);
  const payload = Buffer.from(body);
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + options.durationMs;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const sent = performance.now();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          res.resume();
          res.once('end', () => {
            if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}`));
            else {
              latencies.push(performance.now() - sent);
              resolve();
            }
          });
        },
      );
      req.once('error', reject);
      req.end(payload);
    });
  const worker = async () => {
    while (performance.now() < until) await one();
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    agent.destroy();
  }
  const elapsedS = (performance.now() - started) / 1000;
  return {
    requests: latencies.length,
    perSecond: latencies.length / elapsedS,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}
