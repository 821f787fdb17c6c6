import { isUtf8 } from 'node:buffer';
import type { HttpBindings } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { bearerAuth } from '../http-server/middleware/bearer-auth.ts';
import { limitedBody, quotedHeader } from '../http-server/middleware/body-limit.ts';
import { decodeOtlpJson, decodeOtlpProtobuf } from './otlp-decode.ts';
import type { OtlpIngest } from './otlp-ingest.ts';
import { otlpEncodingOf } from './otlp-media-type.ts';
import type { OtlpEncoding } from '../config/types.ts';
import { encodeExportResponse, encodeStatus, RpcCode } from './otlp-messages.ts';
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

/** Under @hono/node-server the bindings hold the request's socket; `app.request()` passes none. */
type OtlpEnv = { Bindings: Partial<HttpBindings> };

/**
 * The OTLP/HTTP receiver as a Hono app, to mount where traces are taken (`app.route('/', …)`). Its
 * errors are OTLP's own: a `google.rpc.Status`, in protobuf or JSON as the request came.
 */
export function createOtlpHttpApp(options: OtlpHttpOptions): Hono<OtlpEnv> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const app = new Hono<OtlpEnv>();
  app.onError(answerError);
  if (options.token !== undefined) {
    // Only an export needs the token: any other method is told 405, whoever asks.
    app.use(
      OTLP_TRACES_PATH,
      bearerAuth({ token: options.token, isPublic: (method) => method !== 'POST', message: 'missing or wrong bearer token' }),
    );
  }
  const readBody = limitedBody({
    maxBytes: maxBodyBytes,
    tooLargeMessage: `request body over ${maxBodyBytes} bytes; send smaller batches (e.g. a lower maxExportBatchSize)`,
  });
  app.post(OTLP_TRACES_PATH, otlpMediaType, async (c) => exportTraces(c, await readBody(c), options.ingest));
  app.all(OTLP_TRACES_PATH, (c) => {
    c.header('allow', 'POST');
    throw new HTTPException(405, { message: `${c.req.method} is not allowed on ${OTLP_TRACES_PATH}; use POST` });
  });
  return app;
}

const otlpMediaType = createMiddleware<OtlpEnv>(async (c, next) => {
  if (requestEncoding(c) === undefined) {
    throw new HTTPException(415, {
      message: `unsupported Content-Type ${quotedHeader(c.req.header('content-type') ?? '')}; send application/x-protobuf or application/json`,
    });
  }
  await next();
});

async function exportTraces(c: Context<OtlpEnv>, body: Buffer, ingest: OtlpIngest): Promise<Response> {
  const encoding = requestEncoding(c)!;
  const outcome = await receiveExport(
    (repairs) => (encoding === 'protobuf' ? decodeOtlpProtobuf(body, repairs) : decodeOtlpJson(JSON.parse(jsonText(body, repairs)))),
    ingest,
    { headers: forwardedHeaders(c.req.header()), transport: 'http' },
  );
  switch (outcome.kind) {
    case 'success':
      return send(c, 200, encoding, encodeExportResponse(encoding, outcome));
    case 'invalid':
      return send(c, 400, encoding, encodeStatus(encoding, RpcCode.invalidArgument, outcome.message));
    case 'busy':
    case 'unavailable': {
      const status = outcome.kind === 'busy' ? 429 : 503;
      const code = outcome.kind === 'busy' ? RpcCode.resourceExhausted : RpcCode.unavailable;
      c.header('retry-after', String(outcome.retryAfterSeconds));
      return send(c, status, encoding, encodeStatus(encoding, code, outcome.message));
    }
    case 'internal':
      return send(c, 500, encoding, encodeStatus(encoding, RpcCode.internal, INTERNAL_ERROR_MESSAGE));
  }
}

/**
 * A refusal (405, 401, 415, 413, a body that does not inflate) as a Status with the code gRPC would
 * give the same failure; anything else is a bug or a client gone mid-request: a 500 that says nothing
 * of it. Errors before the media type is known are answered in JSON, which a person can read. When
 * the request's body has not all been read, the connection closes after the answer instead of
 * waiting for the rest of a body nobody will read.
 */
function answerError(error: Error, c: Context<OtlpEnv>): Response {
  const encoding = requestEncoding(c) ?? 'json';
  const incoming = c.env?.incoming;
  if (incoming && !incoming.complete) c.header('connection', 'close');
  if (!(error instanceof HTTPException)) return send(c, 500, encoding, encodeStatus(encoding, RpcCode.internal, INTERNAL_ERROR_MESSAGE));
  return send(c, error.status, encoding, encodeStatus(encoding, rpcCodeOf(error.status), error.message));
}

/** The google.rpc code for the Status body, as gRPC would name the same failure. */
function rpcCodeOf(status: number): number {
  if (status === 401) return RpcCode.unauthenticated;
  if (status === 405) return RpcCode.unimplemented;
  if (status === 413) return RpcCode.resourceExhausted;
  return RpcCode.invalidArgument;
}

function requestEncoding(c: Context<OtlpEnv>): OtlpEncoding | undefined {
  return otlpEncodingOf(c.req.header('content-type'));
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

/** Headers the ingest may route by; the checked credential stays here. */
function forwardedHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'authorization' && name !== 'cookie'));
}

function send(c: Context<OtlpEnv>, status: ContentfulStatusCode, encoding: OtlpEncoding, body: Buffer): Response {
  // A Buffer is the Uint8Array c.body() takes, whatever its backing store.
  return c.body(body as Uint8Array<ArrayBuffer>, status, {
    'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
  });
}
