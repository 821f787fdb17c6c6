import { isUtf8 } from 'node:buffer';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate, inflateRaw } from 'node:zlib';
import { bearerTokenMatches } from './bearer-token.ts';
import { decodeOtlpJson, decodeOtlpProtobuf } from './otlp-decode.ts';
import type { OtlpIngest } from './otlp-ingest.ts';
import { encodeExportResponse, encodeStatus, RpcCode, type OtlpEncoding } from './otlp-messages.ts';
import { INTERNAL_ERROR_MESSAGE, receiveExport } from './receive-export.ts';
import type { Utf8Repairs } from './utf8-repairs.ts';

/**
 * OTLP/HTTP traces (https://opentelemetry.io/docs/specs/otlp/#otlphttp): `POST /v1/traces` with a
 * protobuf or JSON body, plain, gzip or deflate, answered in the request's own encoding.
 */

export const OTLP_TRACES_PATH = '/v1/traces';
/** The OpenTelemetry Collector's default for a request body, before and after decompression. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface OtlpHttpOptions {
  ingest: OtlpIngest;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** The largest body accepted, compressed and decompressed alike. */
  maxBodyBytes?: number;
}

/** Handles the request and returns true when it is OTLP's; false leaves it (and the response) to the caller. */
export type OtlpHttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

const inflaters = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
} as const;
const inflateRawAsync = promisify(inflateRaw);

/** An error answer decided before the body is decoded. */
class HttpAnswer {
  readonly status: number;
  readonly message: string;
  readonly headers: Record<string, string>;
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    this.status = status;
    this.message = message;
    this.headers = headers;
  }

  /** The google.rpc code for the Status body, as gRPC would name the same failure. */
  get rpcCode(): number {
    if (this.status === 401) return RpcCode.unauthenticated;
    if (this.status === 405) return RpcCode.unimplemented;
    if (this.status === 413) return RpcCode.resourceExhausted;
    return RpcCode.invalidArgument;
  }
}

export function createOtlpHttpHandler(options: OtlpHttpOptions): OtlpHttpHandler {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return (req, res) => {
    if (pathname(req.url) !== OTLP_TRACES_PATH) return false;
    handleExport(req, res, options, maxBodyBytes).catch(() => {
      // A client gone mid-request gets here, or a bug: never a crash, never a stack to the client.
      if (res.headersSent || res.destroyed) res.destroy();
      else send(res, 500, 'json', encodeStatus('json', RpcCode.internal, INTERNAL_ERROR_MESSAGE));
    });
    return true;
  };
}

function pathname(url = ''): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** A client's header value, quoted and cut short, for an error message. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

async function handleExport(req: IncomingMessage, res: ServerResponse, options: OtlpHttpOptions, maxBodyBytes: number): Promise<void> {
  const encoding = mediaEncoding(req.headers['content-type']);
  // Errors before the media type is known are answered in JSON, which a person can read.
  const answerIn = encoding ?? 'json';
  if (req.method !== 'POST') {
    return refuse(req, res, answerIn, new HttpAnswer(405, `${req.method} is not allowed on ${OTLP_TRACES_PATH}; use POST`, { allow: 'POST' }), maxBodyBytes);
  }
  if (options.token !== undefined && !bearerTokenMatches(req.headers.authorization, options.token)) {
    return refuse(req, res, answerIn, new HttpAnswer(401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' }), maxBodyBytes);
  }
  if (encoding === undefined) {
    const message = `unsupported Content-Type ${quoted(req.headers['content-type'] ?? '')}; send application/x-protobuf or application/json`;
    return refuse(req, res, answerIn, new HttpAnswer(415, message), maxBodyBytes);
  }
  const contentEncoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (contentEncoding !== 'identity' && !Object.hasOwn(inflaters, contentEncoding)) {
    return refuse(req, res, encoding, new HttpAnswer(415, `unsupported Content-Encoding ${quoted(contentEncoding)}; send gzip, deflate or none`), maxBodyBytes);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes) return refuse(req, res, encoding, tooLarge(maxBodyBytes), maxBodyBytes);

  let body: Buffer;
  try {
    const raw = await readBody(req, maxBodyBytes);
    body = contentEncoding === 'identity' ? raw : await decompress(contentEncoding as keyof typeof inflaters, raw, maxBodyBytes);
  } catch (error) {
    if (error instanceof HttpAnswer) return refuse(req, res, encoding, error, maxBodyBytes);
    throw error;
  }

  const outcome = await receiveExport(
    (repairs) => (encoding === 'protobuf' ? decodeOtlpProtobuf(body, repairs) : decodeOtlpJson(JSON.parse(jsonText(body, repairs)))),
    options.ingest,
    { headers: forwardedHeaders(req.headers), transport: 'http' },
  );
  switch (outcome.kind) {
    case 'success':
      return send(res, 200, encoding, encodeExportResponse(encoding, outcome));
    case 'invalid':
      return send(res, 400, encoding, encodeStatus(encoding, RpcCode.invalidArgument, outcome.message));
    case 'busy':
    case 'unavailable': {
      const status = outcome.kind === 'busy' ? 429 : 503;
      const code = outcome.kind === 'busy' ? RpcCode.resourceExhausted : RpcCode.unavailable;
      return send(res, status, encoding, encodeStatus(encoding, code, outcome.message), { 'retry-after': String(outcome.retryAfterSeconds) });
    }
    case 'internal':
      return send(res, 500, encoding, encodeStatus(encoding, RpcCode.internal, INTERNAL_ERROR_MESSAGE));
  }
}

/**
 * A JSON body is text as a whole, read with U+FFFD for bytes that are not UTF-8 (bad bytes outside
 * a string then fail the parse). Which strings held them is not known here: the client hears that
 * the body did, counted as one.
 */
function jsonText(body: Buffer, repairs: Utf8Repairs): string {
  if (!isUtf8(body)) repairs.add('the JSON body');
  return body.toString('utf8');
}

/** The body's encoding from its media type; parameters such as `charset` do not change it. */
function mediaEncoding(contentType: string | undefined): OtlpEncoding | undefined {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType === 'application/x-protobuf') return 'protobuf';
  if (mediaType === 'application/json') return 'json';
  return undefined;
}

function tooLarge(maxBodyBytes: number): HttpAnswer {
  return new HttpAnswer(413, `request body over ${maxBodyBytes} bytes; send smaller batches (e.g. a lower maxExportBatchSize)`);
}

function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        req.off('data', onData);
        chunks.length = 0;
        reject(tooLarge(maxBodyBytes));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
    req.once('close', () => reject(new Error('the client closed the request before its end')));
  });
}

/** Inflates with the output bounded: a decompression bomb stops at the limit, not at the end of its data. */
async function decompress(contentEncoding: keyof typeof inflaters, raw: Buffer, maxBodyBytes: number): Promise<Buffer> {
  const inflateBody = contentEncoding === 'deflate' && !hasZlibHeader(raw) ? inflateRawAsync : inflaters[contentEncoding];
  try {
    return await inflateBody(raw, { maxOutputLength: maxBodyBytes });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBodyBytes);
    throw new HttpAnswer(400, `could not decompress the ${contentEncoding} body: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** `deflate` should be zlib-wrapped (RFC 9110), but some clients send raw deflate data. */
function hasZlibHeader(raw: Buffer): boolean {
  return raw.length >= 2 && (raw[0]! & 0x0f) === 8 && ((raw[0]! << 8) | raw[1]!) % 31 === 0;
}

/** Headers the ingest may route by; the checked credential stays here. */
function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers)
      .filter(([name]) => name !== 'authorization' && name !== 'cookie')
      .map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]),
  );
}

/**
 * Answers an error before (or instead of) reading the whole body. The connection closes after
 * the answer, and whatever the client is still sending is discarded up to one more body's worth,
 * so that it can read the answer rather than fail on a reset connection.
 */
function refuse(req: IncomingMessage, res: ServerResponse, encoding: OtlpEncoding, answer: HttpAnswer, maxBodyBytes: number): void {
  const complete = req.complete;
  send(res, answer.status, encoding, encodeStatus(encoding, answer.rpcCode, answer.message), { ...answer.headers, ...(!complete && { connection: 'close' }) });
  if (complete) return;
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > maxBodyBytes) req.socket.destroy();
  });
  req.resume();
}

function send(res: ServerResponse, status: number, encoding: OtlpEncoding, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
    'content-length': String(body.length),
    ...headers,
  });
  res.end(body);
}
