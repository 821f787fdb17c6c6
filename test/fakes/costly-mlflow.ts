import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { serveRecorded, type RecordedRequest } from './exchange.ts';
import { startFakeMlflow, type FakeMlflow, type FakeMlflowOptions } from './fake-mlflow.ts';
import { listen } from './listen.ts';
import { decodeOtlpProtobuf } from '../../src/otlp/otlp-decode.ts';

/** What one `/v1/traces` request occupies the server's one worker for: a fixed part and a part per span. */
export interface IngestCost {
  baseMs: number;
  perSpanMs: number;
}

/** A measured ingest rate: `tracesPerRequest` traces of `spansPerTrace` spans each, traces per second. */
export interface MeasuredIngest {
  tracesPerRequest: number;
  spansPerTrace: number;
  tracesPerSecond: number;
}

/**
 * The cost model through two measured rates of a server that takes requests one at a time: each rate
 * gives the time one request took, and two request sizes fix the line.
 */
export function ingestCostFrom(small: MeasuredIngest, large: MeasuredIngest): IngestCost {
  const requestMs = (m: MeasuredIngest) => (m.tracesPerRequest * 1000) / m.tracesPerSecond;
  const spans = (m: MeasuredIngest) => m.tracesPerRequest * m.spansPerTrace;
  const perSpanMs = (requestMs(large) - requestMs(small)) / (spans(large) - spans(small));
  return { baseMs: requestMs(small) - spans(small) * perSpanMs, perSpanMs };
}

/**
 * Real MLflow 3.14.1.dev0 (SQLite, one worker, 2 cores), 2-span traces of ~2 KB, 4 requests in flight
 * (docs/mlflow-protocol.md §2): about 18 ms per request plus 2.1 ms per span.
 */
export const REAL_MLFLOW_INGEST_COST = ingestCostFrom(
  { tracesPerRequest: 1, spansPerTrace: 2, tracesPerSecond: 45 },
  { tracesPerRequest: 200, spansPerTrace: 2, tracesPerSecond: 231 },
);

/** The best rate such a server allows for `traces` traces: all of them in one request. */
export function bestIngestRate(cost: IngestCost, traces: number, spansPerTrace: number): number {
  return (traces * 1000) / (cost.baseMs + traces * spansPerTrace * cost.perSpanMs);
}

export interface CostlyMlflow {
  /** http://127.0.0.1:<port>, in front of `fake`. */
  url: string;
  fake: FakeMlflow;
  cost: IngestCost;
  requests: RecordedRequest[];
  /** Spans received on `/v1/traces`. */
  readonly spans: number;
  close(): Promise<void>;
}

/**
 * A fake MLflow that costs what a real one costs: requests are served one at a time (one worker), and
 * each `/v1/traces` request holds the worker for `cost` (the fake's own work included), so a client's
 * throughput against it is bounded as against the real server. Other routes pass through at no cost.
 */
export async function startCostlyMlflow(options: FakeMlflowOptions & { cost?: IngestCost } = {}): Promise<CostlyMlflow> {
  const cost = options.cost ?? REAL_MLFLOW_INGEST_COST;
  const fake = await startFakeMlflow(options);
  const requests: RecordedRequest[] = [];
  let spans = 0;
  let worker: Promise<unknown> = Promise.resolve();
  const server = await listen(
    serveRecorded(requests, (exchange) => {
      const turn = worker.then(async () => {
        const started = performance.now();
        let costMs = 0;
        if (exchange.method === 'POST' && exchange.pathname === '/v1/traces') {
          const count = spanCount(exchange.body, exchange.headers['content-encoding']);
          spans += count;
          costMs = cost.baseMs + count * cost.perSpanMs;
        }
        const url = fake.url + exchange.pathname + (exchange.query.size > 0 ? `?${exchange.query}` : '');
        const answer = await fetch(url, {
          method: exchange.method,
          headers: withoutHopByHop(exchange.headers),
          ...(exchange.method !== 'GET' && exchange.method !== 'HEAD' && { body: exchange.body }),
        });
        const body = Buffer.from(await answer.arrayBuffer());
        const left = costMs - (performance.now() - started);
        if (left > 0) await sleep(left);
        const headers = Object.fromEntries(answer.headers);
        return { status: answer.status, headers: withoutHopByHop(headers), body };
      });
      worker = turn.catch(() => {});
      return turn;
    }),
  );
  return {
    url: server.url,
    fake,
    cost,
    requests,
    get spans() {
      return spans;
    },
    close: async () => {
      await server.close();
      await fake.close();
    },
  };
}

/** Headers of one connection, which a proxy must not pass on. */
const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

function withoutHopByHop(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

/** Spans in an OTLP protobuf body; an undecodable one costs the base only, as the server refuses it early. */
function spanCount(body: Buffer, encoding: string | undefined): number {
  try {
    return decodeOtlpProtobuf(encoding === 'gzip' ? gunzipSync(body) : body).reduce((sum, resource) => sum + resource.spans.length, 0);
  } catch {
    return 0;
  }
}
