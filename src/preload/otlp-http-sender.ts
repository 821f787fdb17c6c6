import { diag } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { parseRetryAfter } from '../http-client/retry-after.ts';
import { encodeSpans } from '../otlp/otlp-encode.ts';
import { otlpEncodingOf } from '../otlp/otlp-media-type.ts';
import { LOST_BATCHES_HEADER, lossMarkName } from './loss-report.ts';
import type { SpanSender } from './prompt-span-processor.ts';

/** Tries of one batch before it waits on disk instead: the receiver asks to come back (429/503) while its disk falls behind. */
const ATTEMPTS = 6;
const RETRY_BASE_MS = 250;
/** However long the receiver asks to wait, the next try comes within this. */
const RETRY_MOST_MS = 5_000;
/** The receiver answers once the spans are on disk; far less than this. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Half the receiver's body limit: a batch of spans with large prompts is sent in parts. */
const MOST_BODY_BYTES = 8 * 1024 * 1024;

/** Waits before another try; a test's clock in tests. */
type Wait = (ms: number) => Promise<void>;

/** The wait between tries does not keep the program alive: one that ends meanwhile keeps the body at exit. */
const waitUnref: Wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

export interface SenderOptions {
  wait?: Wait;
  /** Bytes held for the receiver (sent and not yet answered, or waiting to be tried again) past which a batch goes to the spool at once. */
  mostHeldBytes?: number;
}

/** A receiver that stops answering (stopped, its disk stalled) must not make the program hold every span meanwhile. */
const MOST_HELD_BYTES = 64 * 1024 * 1024;

/**
 * Sends spans as OTLP/HTTP protobuf to the tool's receiver on this machine, over one kept-alive
 * connection. node:http directly, not fetch: nothing the program's instrumentation sees, so the
 * instrumentation's own sends are never traced.
 *
 * Nothing is dropped, and the program's memory stays bounded: a batch the receiver keeps turning
 * away, or one that comes while much is still unanswered, goes to the first of `spoolDirs` that takes
 * it as a file, which the tool sends on by itself; at exit, every batch the receiver has not taken
 * yet is written there synchronously (what was not yet written out whole is the span processor's to
 * keep too, and comes with it).
 */
export function otlpHttpSender(tracesUrl: string, spoolDirs: readonly string[], options: SenderOptions = {}): SpanSender {
  return new OtlpHttpSender(new URL(tracesUrl), spoolDirs, options.wait ?? waitUnref, options.mostHeldBytes ?? MOST_HELD_BYTES);
}

class OtlpHttpSender implements SpanSender {
  readonly #url: URL;
  readonly #spoolDirs: readonly string[];
  readonly #wait: Wait;
  readonly #mostHeldBytes: number;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 2 });
  /**
   * Bodies neither taken by the receiver nor whole in the spool: in flight, waiting for another try,
   * being spooled. A program ending meanwhile keeps them: a request written out whole is delivered
   * even if the program exits, but a receiver whose store is full turns it away with no one to try again.
   */
  readonly #unsettled = new Set<Uint8Array>();
  #heldBytes = 0;
  /** Batches no spool directory took, so far (see #noteLost). */
  #lostBatches = 0;

  constructor(url: URL, spoolDirs: readonly string[], wait: Wait, mostHeldBytes: number) {
    this.#url = url;
    this.#spoolDirs = spoolDirs;
    this.#wait = wait;
    this.#mostHeldBytes = mostHeldBytes;
  }

  async send(spans: ReadableSpan[], written: () => void): Promise<void> {
    if (spans.length === 0) return;
    // From here on only the bytes are held, not the spans, while the receiver stores them.
    const bodies = encodeWithin(spans);
    let toWrite = bodies.length;
    const oneWritten = () => {
      if (--toWrite === 0) written();
    };
    await Promise.all(bodies.map((body) => this.#hold(body, oneWritten)));
  }

  keepAtExit(spans: ReadableSpan[]): void {
    const bodies = [...this.#unsettled, ...(spans.length > 0 ? [encodeSpans(spans)] : [])];
    this.#unsettled.clear();
    const lost = bodies.filter((body) => !spoolNow(this.#spoolDirs, body)).length;
    if (lost > 0) this.#noteLost(lost);
  }

  async #hold(body: Uint8Array, written: () => void): Promise<void> {
    this.#unsettled.add(body);
    try {
      if (this.#heldBytes + body.byteLength > this.#mostHeldBytes) {
        await this.#spool(body);
        written();
        return;
      }
      this.#heldBytes += body.byteLength;
      try {
        await this.#sendBody(body, written);
      } finally {
        this.#heldBytes -= body.byteLength;
      }
    } finally {
      this.#unsettled.delete(body);
    }
  }

  async #spool(body: Uint8Array): Promise<void> {
    if (!(await spool(this.#spoolDirs, body))) this.#noteLost(1);
  }

  /** Told with every request from now on, and by a mark too: no request may follow (the program is exiting, or idle). */
  #noteLost(batches: number): void {
    const before = this.#lostBatches;
    this.#lostBatches += batches;
    leaveLossMark(this.#spoolDirs, before, this.#lostBatches);
  }

  async #sendBody(body: Uint8Array, written: () => void): Promise<void> {
    let isWritten = false;
    const writtenOnce = () => {
      if (isWritten) return;
      isWritten = true;
      written();
    };
    for (let attempt = 1; ; attempt++) {
      const answer = await post(this.#url, this.#agent, body, writtenOnce, this.#lostBatches).catch(() => ({
        status: 0,
        retryAfterMs: undefined,
      }));
      if (answer.status >= 200 && answer.status < 300) return;
      const retry = answer.status === 0 || answer.status === 429 || answer.status >= 500;
      if (!retry) {
        // Sent again, it would be turned away again: a request the receiver cannot read.
        diag.error(`otel-mlflow: the receiver at ${this.#url.origin} refused spans (HTTP ${answer.status})`);
        writtenOnce();
        return;
      }
      if (attempt === ATTEMPTS) {
        await this.#spool(body);
        writtenOnce();
        return;
      }
      writtenOnce();
      await this.#wait(retryDelayMs(attempt, answer.retryAfterMs));
      // Kept at exit meanwhile: nothing more to do.
      if (!this.#unsettled.has(body)) return;
    }
  }
}

/** One request's body, or several when the spans' content would make it larger than the receiver takes. */
function encodeWithin(spans: ReadableSpan[]): Uint8Array[] {
  const body = encodeSpans(spans);
  if (body.byteLength <= MOST_BODY_BYTES || spans.length === 1) return [body];
  const half = spans.length >> 1;
  return [...encodeWithin(spans.slice(0, half)), ...encodeWithin(spans.slice(half))];
}

/** Backoff doubling from RETRY_BASE_MS, or the receiver's Retry-After when longer, never past RETRY_MOST_MS. */
function retryDelayMs(attempt: number, retryAfterMs: number | undefined): number {
  return Math.min(RETRY_MOST_MS, Math.max(RETRY_BASE_MS * 2 ** (attempt - 1), retryAfterMs ?? 0));
}

/** Which of the program's senders tells of its losses: one per process and thread. */
const SENDER = `${process.pid}.${threadId}`;

function post(
  url: URL,
  agent: Agent,
  body: Uint8Array,
  written: () => void,
  lostBatches: number,
): Promise<{ status: number; retryAfterMs: number | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          'content-type': 'application/x-protobuf',
          'content-length': body.byteLength,
          ...(lostBatches > 0 && { [LOST_BATCHES_HEADER]: `${SENDER} ${lostBatches}` }),
        },
      },
      (res) => {
        res.resume();
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        // The receiver answers in an OTLP encoding, refusals too (a google.rpc.Status). Anything else is
        // no answer of its, whatever its status: another server on the port of a tool that was killed
        // (a web server's 200 is no acknowledgement), a proxy's page.
        const status = otlpEncodingOf(res.headers['content-type']) ? (res.statusCode ?? 0) : 0;
        res.on('end', () => resolve({ status, retryAfterMs }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.on('finish', written);
    req.end(body);
  });
}

/** A file name no other process or thread of the program picks; `.otlp` only once whole, so the tool never reads half a file. */
function spoolPaths(spoolDir: string): [partial: string, whole: string] {
  const name = join(spoolDir, `${process.pid}-${threadId}-${Date.now()}-${++spooled}`);
  return [`${name}.part`, `${name}.otlp`];
}
let spooled = 0;
/**
 * Made again when it is gone: the tool that made it was killed, and the next run took what was in it
 * over, while this program lives on; that run takes over what comes later too.
 */
const SPOOL_DIR_MODE = { recursive: true, mode: 0o700 } as const;

/** Into the first directory that takes the whole file (the store's disk may be full); false when none did. */
async function spool(spoolDirs: readonly string[], body: Uint8Array): Promise<boolean> {
  for (const dir of spoolDirs) {
    const [partial, whole] = spoolPaths(dir);
    try {
      await mkdir(dir, SPOOL_DIR_MODE);
      await writeFile(partial, body);
      await rename(partial, whole);
      return true;
    } catch {
      // What a full disk took of it is of no use, and takes room the next file needs.
      await rm(partial, { force: true }).catch(() => undefined);
    }
  }
  diag.error('otel-mlflow: spans the receiver turned away could not be kept');
  return false;
}

function spoolNow(spoolDirs: readonly string[], body: Uint8Array): boolean {
  for (const dir of spoolDirs) {
    const [partial, whole] = spoolPaths(dir);
    try {
      mkdirSync(dir, SPOOL_DIR_MODE);
      writeFileSync(partial, body);
      renameSync(partial, whole);
      return true;
    } catch {
      try {
        rmSync(partial, { force: true });
      } catch {
        // Not even that: the next directory may still take the file.
      }
    }
  }
  diag.error('otel-mlflow: the last spans could not be kept');
  return false;
}

/** The mark of `lost` batches in the first directory that takes it (see lossMarkName); then the one of the count before goes. */
function leaveLossMark(spoolDirs: readonly string[], before: number, lost: number): void {
  const marked = spoolDirs.some((dir) => {
    try {
      mkdirSync(dir, SPOOL_DIR_MODE);
      closeSync(openSync(join(dir, lossMarkName(SENDER, lost)), 'w', 0o600));
      return true;
    } catch {
      return false;
    }
  });
  if (!marked || before === 0) return;
  for (const dir of spoolDirs) {
    try {
      rmSync(join(dir, lossMarkName(SENDER, before)), { force: true });
    } catch {
      // The tool keeps the largest count it finds: an old mark left says nothing wrong.
    }
  }
}
