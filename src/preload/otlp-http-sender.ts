import { diag } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { Agent, request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { encodeSpans } from '../otlp/otlp-encode.ts';
import type { SpanSender } from './prompt-span-processor.ts';

/** Tries of one batch: the tool's receiver asks to come back (429/503) when its disk falls behind. */
const ATTEMPTS = 4;
const RETRY_BASE_MS = 250;
/** The receiver answers once the spans are on disk; far less than this. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Sends spans as OTLP/HTTP protobuf to the tool's receiver on this machine, over one kept-alive
 * connection. node:http directly, not fetch: nothing the program's instrumentation sees, so the
 * instrumentation's own sends are never traced. At exit, what is left is written as a file to
 * `spoolDir`, which the tool reads once the program has ended.
 */
export function otlpHttpSender(tracesUrl: string, spoolDir: string | undefined): SpanSender {
  const url = new URL(tracesUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  return {
    send: (spans, written) => send(spans, written, url, agent),
    keepAtExit: (spans) => keep(spans, spoolDir),
  };
}

function keep(spans: ReadableSpan[], spoolDir: string | undefined): void {
  if (!spoolDir || spans.length === 0) return;
  const body = encodeSpans(spans);
  try {
    writeFileSync(join(spoolDir, `${process.pid}-${threadId}-${Date.now()}.otlp`), body);
  } catch (error) {
    diag.error('otel-mlflow: the last spans could not be kept', error);
  }
}

async function send(spans: ReadableSpan[], written: () => void, url: URL, agent: Agent): Promise<void> {
  const count = spans.length;
  if (count === 0) return;
  // From here on only the bytes are held, not the spans, while the receiver stores them.
  const body = encodeSpans(spans);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const status = await post(url, agent, body, written).catch((error: unknown) => error);
    if (typeof status === 'number' && status < 300) return;
    const retry = typeof status !== 'number' || status === 429 || status >= 500;
    if (!retry || attempt === ATTEMPTS) {
      diag.error(`otel-mlflow: the receiver at ${url.origin} did not take ${count} spans`, status);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** (attempt - 1)));
  }
}

function post(url: URL, agent: Agent, body: Uint8Array, written: () => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: { 'content-type': 'application/x-protobuf', 'content-length': body.byteLength },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.on('finish', written);
    req.end(body);
  });
}
