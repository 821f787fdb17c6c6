import { request } from 'node:http';
import type { OtlpBatch, OtlpIngest, OtlpIngestResult } from '../../src/otlp/otlp-ingest.ts';
import { createOtlpHttpHandler, type OtlpHttpOptions } from '../../src/otlp/otlp-http-receiver.ts';
import { listen, type Listening } from '../fakes/listen.ts';

/** An ingest that keeps every batch and answers what the test says (accepted unless told otherwise). */
export interface RecordingIngest {
  ingest: OtlpIngest;
  batches: OtlpBatch[];
  answer: (batch: OtlpBatch) => Promise<OtlpIngestResult> | OtlpIngestResult;
}

export function recordingIngest(answer: RecordingIngest['answer'] = () => ({ kind: 'accepted' })): RecordingIngest {
  const recorder: RecordingIngest = {
    batches: [],
    answer,
    ingest: async (batch) => {
      recorder.batches.push(batch);
      return recorder.answer(batch);
    },
  };
  return recorder;
}

/** The OTLP handler on a free port, with a plain 404 for every other path as a caller would add. */
export async function listenOtlpHttp(options: OtlpHttpOptions): Promise<Listening> {
  const handle = createOtlpHttpHandler(options);
  return listen((req, res) => {
    if (handle(req, res)) return;
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with exactly these headers and body (fetch would add or refuse some). */
export function rawRequest(url: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer }): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'POST', headers: init.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
