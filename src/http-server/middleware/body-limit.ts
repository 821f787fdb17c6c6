import { promisify } from 'node:util';
import { gunzip, inflate, inflateRaw } from 'node:zlib';
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
export const bodyLimit = ({
  maxBytes,
  tooLargeMessage = `the request body is larger than the limit of ${maxBytes} bytes`,
}: BodyLimitOptions) => {
  const tooLarge = () => new HTTPException(413, { message: tooLargeMessage });
  return createMiddleware(async (c, next) => {
    const contentEncoding = (c.req.header('content-encoding') ?? 'identity').trim().toLowerCase();
    if (contentEncoding !== 'identity' && !Object.hasOwn(inflaters, contentEncoding)) {
      throw new HTTPException(415, {
        message: `unsupported Content-Encoding ${quotedHeader(contentEncoding)}; send gzip, deflate or none`,
      });
    }
    const read = await readBodyWithin(c.req.raw, maxBytes, tooLarge);
    const raw = Buffer.from(read.buffer, read.byteOffset, read.byteLength);
    const body = contentEncoding === 'identity' ? raw : await inflated(contentEncoding as ContentEncoding, raw, maxBytes, tooLarge);
    // As Hono's own body limit does: the request the handlers after it see carries the body read,
    // with the headers as the client sent them (Content-Encoding included: what the client did).
    c.req.raw = new Request(c.req.raw, { body });
    await next();
  });
};

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
