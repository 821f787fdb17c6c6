import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { decodeOtlpProtobuf } from '../../src/otlp/otlp-decode.ts';
import { encodeSpans } from '../../src/otlp/otlp-encode.ts';
import { otlpHttpSender } from '../../src/preload/otlp-http-sender.ts';

interface Answer {
  /** 0: no answer until the test releases it. */
  status: number;
  retryAfter?: string;
  /** Another server's answer, not the receiver's (which answers in protobuf, its refusals too). */
  contentType?: string;
}

/** A receiver that answers each request with the next of `answers` (the last one from then on), keeping the span names it was sent. */
async function receiver(
  answers: Answer[],
): Promise<{ url: string; requests: string[][]; lostHeaders: (string | undefined)[]; server: Server; release(): void }> {
  const requests: string[][] = [];
  const lostHeaders: (string | undefined)[] = [];
  const unanswered: (() => void)[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    requests.push(spanNames(Buffer.concat(chunks)));
    lostHeaders.push(req.headers['x-otel-mlflow-lost-batches'] as string | undefined);
    const answer = answers[Math.min(requests.length, answers.length) - 1]!;
    const headers = {
      'content-type': answer.contentType ?? 'application/x-protobuf',
      ...(answer.retryAfter && { 'retry-after': answer.retryAfter }),
    };
    if (answer.status === 0) unanswered.push(() => res.writeHead(200, headers).end());
    else res.writeHead(answer.status, headers).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  const release = () => {
    for (const answer of unanswered.splice(0)) answer();
  };
  return { url, requests, lostHeaders, server, release };
}

function spanNames(body: Uint8Array): string[] {
  return decodeOtlpProtobuf(body).flatMap((resource) => resource.spans.map((span) => span.name));
}

function finishedSpans(...spans: (string | { name: string; attributes: Record<string, string> })[]): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('test');
  for (const span of spans) {
    if (typeof span === 'string') tracer.startSpan(span).end();
    else tracer.startSpan(span.name, { attributes: span.attributes }).end();
  }
  return exporter.getFinishedSpans();
}

let spoolDir: string;
let server: Server | undefined;

beforeEach(() => {
  spoolDir = mkdtempSync(join(tmpdir(), 'otel-mlflow-sender-'));
});

afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  rmSync(spoolDir, { recursive: true, force: true });
});

const spooled = () => readdirSync(spoolDir);

/** The span names of each file in a spool directory, sorted. */
function spooledSpans(dir = spoolDir): string[][] {
  return readdirSync(dir)
    .map((file) => spanNames(readFileSync(join(dir, file))))
    .sort();
}

/** A spool directory nothing can be written to, as on a full disk: a file stands where its parent should be. */
function unwritableDir(): string {
  const full = join(spoolDir, 'full');
  writeFileSync(full, '');
  return join(full, 'run');
}

describe('the preload sends spans on until the receiver takes them', () => {
  it('sends a batch again after the wait the receiver asked for, capped at 5 s, until it is taken', async () => {
    const fake = await receiver([{ status: 503, retryAfter: '86400' }, { status: 429 }, { status: 200 }]);
    server = fake.server;
    const waits: number[] = [];
    let written = 0;
    await otlpHttpSender(fake.url, [spoolDir], { wait: async (ms) => void waits.push(ms) }).send(
      finishedSpans('POST /chat', 'chat gpt-4o-mini'),
      () => written++,
    );
    assert.deepEqual(fake.requests, [
      ['POST /chat', 'chat gpt-4o-mini'],
      ['POST /chat', 'chat gpt-4o-mini'],
      ['POST /chat', 'chat gpt-4o-mini'],
    ]);
    assert.deepEqual(waits, [5000, 500], 'a day-long Retry-After waits 5 s; without one, the backoff doubles');
    assert.equal(written, 1);
    assert.deepEqual(spooled(), []);
  });

  it('leaves a batch the receiver keeps turning away in the spool directory, whole, for the tool to send on', async () => {
    const fake = await receiver([{ status: 503, retryAfter: '1' }]);
    server = fake.server;
    await otlpHttpSender(fake.url, [spoolDir], { wait: async () => undefined }).send(finishedSpans('POST /chat'), () => undefined);
    assert.equal(fake.requests.length, 6);
    const files = spooled();
    assert.equal(files.length, 1);
    assert.match(files[0]!, /\.otlp$/, 'never a half-written name');
    assert.deepEqual(spanNames(readFileSync(join(spoolDir, files[0]!))), ['POST /chat']);
  });

  it('leaves the batch in the next spool directory when the first cannot take it (the store’s disk is full)', async () => {
    const fake = await receiver([{ status: 503 }]);
    server = fake.server;
    const elsewhere = join(spoolDir, 'elsewhere');
    const sender = otlpHttpSender(fake.url, [unwritableDir(), elsewhere], { wait: async () => undefined });
    await sender.send(finishedSpans('POST /chat'), () => undefined);
    sender.keepAtExit(finishedSpans('the last one'));
    assert.deepEqual(spooledSpans(elsewhere), [['POST /chat'], ['the last one']]);
  });

  it('tells the tool, with every request after, how many batches no spool directory could take', async () => {
    const fake = await receiver([{ status: 503 }]);
    server = fake.server;
    const sender = otlpHttpSender(fake.url, [unwritableDir()], { wait: async () => undefined });
    await sender.send(finishedSpans('lost'), () => undefined);
    assert.deepEqual(fake.lostHeaders, Array(6).fill(undefined), 'nothing lost yet while it tried');
    await sender.send(finishedSpans('next'), () => undefined);
    assert.match(fake.lostHeaders[6] ?? '', new RegExp(`^${process.pid}\\.0 1$`));
    await sender.send(finishedSpans('third'), () => undefined);
    assert.match(fake.lostHeaders[12] ?? '', / 2$/, 'the next one was lost too');
  });

  it('keeps a batch that waits for another try when the program exits', async () => {
    const fake = await receiver([{ status: 503 }]);
    server = fake.server;
    let waiting!: () => void;
    const waited = new Promise<void>((resolve) => (waiting = resolve));
    const sender = otlpHttpSender(fake.url, [spoolDir], {
      wait: () => {
        waiting();
        return new Promise(() => undefined);
      },
    });
    void sender.send(finishedSpans('POST /chat'), () => undefined);
    await waited;
    sender.keepAtExit(finishedSpans('the last one'));
    assert.deepEqual(spooledSpans(), [['POST /chat'], ['the last one']]);
  });

  it('keeps a batch whose request is still unanswered when the program exits: the receiver may turn it away after', async () => {
    const fake = await receiver([{ status: 0 }]);
    server = fake.server;
    const sender = otlpHttpSender(fake.url, [spoolDir], { wait: async () => undefined });
    let written = false;
    void sender.send(finishedSpans('in flight'), () => (written = true));
    // Written out whole (the span processor let it go), and with the receiver, which has not answered.
    while (!written || fake.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    sender.keepAtExit([]);
    assert.deepEqual(spooledSpans(), [['in flight']]);
    fake.release();
  });

  it('holds no more than it may for a receiver that stopped answering: the batches past that go to the spool', async () => {
    const fake = await receiver([{ status: 0 }]);
    server = fake.server;
    const first = finishedSpans('first request');
    const sender = otlpHttpSender(fake.url, [spoolDir], { mostHeldBytes: 1.5 * encodeSpans(first).byteLength });
    const sending = sender.send(first, () => undefined);
    while (fake.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await sender.send(finishedSpans('while the receiver is silent'), () => undefined);
    assert.deepEqual(spooledSpans(), [['while the receiver is silent']]);
    fake.release();
    await sending;
    assert.deepEqual(fake.requests, [['first request']]);
  });

  it('sends a batch whose prompts would make one request too large for the receiver in several, in order', async () => {
    const fake = await receiver([{ status: 200 }]);
    server = fake.server;
    const prompt = 'x'.repeat(3 * 1024 * 1024);
    const spans = ['a', 'b', 'c', 'd'].map((name) => ({ name, attributes: { 'mlflow.spanInputs': prompt } }));
    let written = 0;
    await otlpHttpSender(fake.url, [spoolDir]).send(finishedSpans(...spans), () => written++);
    assert.deepEqual(
      fake.requests,
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
      'each request under 8 MiB, half what the receiver takes',
    );
    assert.equal(written, 1, 'written out once, when the last part is');
  });

  it('takes no other server’s answer for the receiver’s: a web page on the port of a tool that was killed keeps the batch', async () => {
    const fake = await receiver([
      { status: 200, contentType: 'text/html; charset=utf-8' },
      { status: 404, contentType: 'text/html' },
    ]);
    server = fake.server;
    let written = 0;
    await otlpHttpSender(fake.url, [spoolDir], { wait: async () => undefined }).send(finishedSpans('POST /chat'), () => written++);
    assert.equal(fake.requests.length, 6, 'tried as often as for a receiver asking to come back');
    assert.equal(written, 1);
    assert.deepEqual(spooledSpans(), [['POST /chat']]);
  });

  it('does not send again what the receiver cannot read', async () => {
    const fake = await receiver([{ status: 400 }]);
    server = fake.server;
    await otlpHttpSender(fake.url, [spoolDir], { wait: async () => undefined }).send(finishedSpans('POST /chat'), () => undefined);
    assert.equal(fake.requests.length, 1);
    assert.deepEqual(spooled(), []);
  });
});
