import { promisify } from 'node:util';
import { gunzip, inflate, inflateRaw } from 'node:zlib';
import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { HTTPException } from 'hono/http-exception';
import { readBodyWithin } from '../../util/bounded-body.ts';
import { errorMessage } from '../../errors.ts';

export interface BodyLimitOptions {
  /** The largest body taken, as sent and once inflated alike. */
  maxBytes: number;
  /** The 413's message, when the app's clients need other words than the default (e.g. what to send instead). */
  tooLargeMessage?: string;
}

const inflaters = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
} as const;
const inflateRawAsync = promisify(inflateRaw);

type ContentEncoding = keyof typeof inflaters;

/**
 * Reads the request's body with a limit on its bytes, plain, gzip or deflate: a body over the limit
 * is refused as soon as its Content-Length or its bytes say so, and a compressed one as soon as its
 * inflated bytes pass the limit (a decompression bomb stops there, not at the end of its data).
 * Refusals are HTTPExceptions (413, 415 for another Content-Encoding, 400 for a body that does not
 * inflate), which the app's onError answers in its own terms. The handlers after it read the
 * inflated body (`c.req.arrayBuffer()`, `c.req.json()`).
 */
export const bodyLimit = (options: BodyLimitOptions) => {
  const read = limitedBody(options);
  return createMiddleware(async (c, next) => {
    const body = await read(c);
    // As Hono's own body limit does: the request the handlers after it see carries the body read,
    // with the headers as the client sent them (Content-Encoding included: what the client did).
    c.req.raw = new Request(c.req.raw, { body });
    await next();
  });
};

/**
 * What `bodyLimit` reads, for a handler that takes the bytes itself: the inflated body, refused as
 * above. Under @hono/node-server it reads the Node request directly, without a web Request and its
 * stream around every chunk (a busy receiver's every request).
 */
export function limitedBody({
  maxBytes,
  tooLargeMessage = `the request body is larger than the limit of ${maxBytes} bytes`,
}: BodyLimitOptions): (c: Context) => Promise<Buffer> {
  const tooLarge = () => new HTTPException(413, { message: tooLargeMessage });
  return async (c) => {
    const contentEncoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
    if (contentEncoding !== 'identity' && !Object.hasOwn(inflaters, contentEncoding)) {
      throw new HTTPException(415, {
        message: `unsupported Content-Encoding ${quotedHeader(contentEncoding)}; send gzip, deflate or none`,
      });
    }
    const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
    let raw: Buffer;
    if (incoming && !incoming.readableDidRead) {
      raw = await readIncomingWithin(incoming, maxBytes, tooLarge);
    } else {
      const read = await readBodyWithin(c.req.raw, maxBytes, tooLarge);
      raw = Buffer.from(read.buffer, read.byteOffset, read.byteLength);
    }
    return contentEncoding === 'identity' ? raw : await inflated(contentEncoding as ContentEncoding, raw, maxBytes, tooLarge);
  };
}

/**
 * A Node request's whole body, never buffering more than `limitBytes`. Past the limit the rest is
 * left unread: the answer then closes the connection.
 */
function readIncomingWithin(incoming: IncomingMessage, limitBytes: number, tooLarge: () => Error): Promise<Buffer> {
  if (Number(incoming.headers['content-length'] ?? Number.NaN) > limitBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const settle = (done: () => void) => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      done();
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      incoming.pause();
      settle(() => reject(tooLarge()));
    };
    const onEnd = () => settle(() => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length)));
    const onError = (error: Error) => settle(() => reject(error));
    const onClose = () => settle(() => reject(new Error('the client closed the connection before its request body ended')));
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** A client's header value, quoted and cut short, for an error message. */
export function quotedHeader(value: string): string {
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

/** Inflates with the output bounded: zlib stops writing at the limit. */
async function inflated(contentEncoding: ContentEncoding, raw: Buffer, maxBytes: number, tooLarge: () => HTTPException): Promise<Buffer> {
  const inflateBody = contentEncoding === 'deflate' && !hasZlibHeader(raw) ? inflateRawAsync : inflaters[contentEncoding];
  try {
    return await inflateBody(raw, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new HTTPException(400, { message: `could not decompress the ${contentEncoding} body: ${errorMessage(error)}` });
  }
}

/** `deflate` should be zlib-wrapped (RFC 9110), but some clients send raw deflate data. */
function hasZlibHeader(raw: Buffer): boolean {
  return raw.length >= 2 && (raw[0]! & 0x0f) === 8 && ((raw[0]! << 8) | raw[1]!) % 31 === 0;
}
