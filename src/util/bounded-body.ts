import { ExitCode, ExpectedError } from '../errors.ts';

export interface AnswerTooLargeInit {
  /** Where the answer came from, without the query: `http://127.0.0.1:5000`. */
  origin: string;
  method: string;
  /** The request's path as messages show it (no query). */
  path: string;
  status: number;
  contentType: string | undefined;
  limitBytes: number;
  /** Who should have answered: `MLflow`, `otel-mlflow serve`. */
  expected: string;
  hint?: string;
}

/**
 * An answer longer than the reader would take. Its body was not read past the limit (or not at all,
 * when Content-Length already said so), so a 600 MB page costs the limit in memory, not 600 MB.
 */
export class AnswerTooLargeError extends ExpectedError {
  readonly origin: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly contentType: string | undefined;
  readonly limitBytes: number;

  constructor(init: AnswerTooLargeInit) {
    const type = init.contentType ? `, ${init.contentType.split(';', 1)[0]!.trim()}` : '';
    super(
      `${init.origin} answered ${init.method} ${init.path} with more than ${formatBytes(init.limitBytes)} (HTTP ${init.status}${type}): ` +
        `not an answer ${init.expected} gives — is something else listening there?`,
      {
        exitCode: ExitCode.unreachable,
        hint: init.hint ?? `check that the address points at ${init.expected} itself, not at a proxy, a login page or another service`,
      },
    );
    this.origin = init.origin;
    this.method = init.method;
    this.path = init.path;
    this.status = init.status;
    this.contentType = init.contentType;
    this.limitBytes = init.limitBytes;
  }
}

/**
 * The chunks of `body` as they arrive, throwing `tooLarge()` once more than `limitBytes` came (the
 * stream is cancelled, so the connection closes instead of downloading the rest). Stopping early
 * cancels it too.
 */
export async function* chunksWithin(
  body: ReadableStream<Uint8Array>,
  limitBytes: number,
  tooLarge: () => Error,
): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > limitBytes) throw tooLarge();
      yield value;
    }
  } finally {
    // After the end this does nothing; before it, it closes the connection.
    await reader.cancel().catch(() => {});
  }
}

/**
 * A response's (or a request's) whole body, never buffering more than `limitBytes`: a Content-Length
 * above the limit fails before anything is read; a longer body fails as soon as it passes the limit.
 */
export async function readBodyWithin(
  response: Pick<Response, 'headers' | 'body'>,
  limitBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > limitBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of chunksWithin(response.body, limitBytes, tooLarge)) {
    chunks.push(chunk);
    length += chunk.byteLength;
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** `8 MiB`, `64 KiB`, `512 bytes`. */
function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
