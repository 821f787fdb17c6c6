import { request } from 'node:http';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { OtlpBatch, OtlpIngest, OtlpIngestResult } from '../../src/otlp/otlp-ingest.ts';
import { OTLP_TRACES_METHOD } from '../../src/otlp/otlp-grpc-receiver.ts';
import { listen } from '../../src/http-server/listen.ts';
import { createOtlpHttpApp, type OtlpHttpOptions } from '../../src/otlp/otlp-http-receiver.ts';
import type { Listening } from '../fakes/listen.ts';

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

/** The OTLP app on a free port, with a plain 404 for every other path as a caller would add. */
export async function listenOtlpHttp(options: OtlpHttpOptions): Promise<Listening> {
  const app = createOtlpHttpApp(options).notFound((c) => c.text('not found', 404));
  const listening = await listen(app, { host: '127.0.0.1', port: 0, portFlag: '--port' });
  return { url: listening.url, close: () => listening.close(0) };
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

const GZIP = 2; // grpc-js compressionAlgorithms.gzip

export type CallResult = { response: Buffer; error?: undefined } | { error: ServiceError; response?: undefined };

/** One Export call with exactly these bytes, as any gRPC client in any language would send it. */
export function exportCall(
  port: number,
  body: Buffer,
  options: { token?: string; metadata?: Record<string, string>; gzip?: boolean } = {},
): Promise<CallResult> {
  const client = new Client(
    `127.0.0.1:${port}`,
    credentials.createInsecure(),
    options.gzip ? { 'grpc.default_compression_algorithm': GZIP } : {},
  );
  const metadata = new Metadata();
  if (options.token !== undefined) metadata.set('authorization', `Bearer ${options.token}`);
  for (const [key, value] of Object.entries(options.metadata ?? {})) metadata.set(key, value);
  const identity = (bytes: Buffer): Buffer => bytes;
  return new Promise((resolve) => {
    client.makeUnaryRequest(OTLP_TRACES_METHOD, identity, identity, body, metadata, (error, response) => {
      client.close();
      resolve(error ? { error } : { response: response ?? Buffer.alloc(0) });
    });
  });
}

const statusType = protobuf.Root.fromJSON({
  nested: {
    Any: { fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
    Status: {
      fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'Any', id: 3 } },
    },
    Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
    RetryInfo: { fields: { retryDelay: { type: 'Duration', id: 1 } } },
  },
});

/** A `google.rpc.Status` as a client reads it, with the delay of a RetryInfo detail if there is one. */
export function readRpcStatus(bytes: Uint8Array): { code: number; message: string; retryDelaySeconds?: number } {
  const status = statusType.lookupType('Status').toObject(statusType.lookupType('Status').decode(bytes), { longs: Number }) as {
    code?: number;
    message?: string;
    details?: { typeUrl: string; value: Uint8Array }[];
  };
  const retryInfo = status.details?.find((detail) => detail.typeUrl === 'type.googleapis.com/google.rpc.RetryInfo');
  const retryType = statusType.lookupType('RetryInfo');
  const delay =
    retryInfo && (retryType.toObject(retryType.decode(retryInfo.value), { longs: Number }) as { retryDelay?: { seconds?: number } });
  return {
    code: status.code ?? 0,
    message: status.message ?? '',
    ...(delay && { retryDelaySeconds: delay.retryDelay?.seconds ?? 0 }),
  };
}

/** Hand-built protobuf, for bodies no serializer would write. */
export const pb = {
  varint(value: number): Buffer {
    const bytes: number[] = [];
    let rest = value;
    while (rest >= 0x80) {
      bytes.push((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    bytes.push(rest);
    return Buffer.from(bytes);
  },
  /** A length-delimited field. */
  field(id: number, content: Buffer): Buffer {
    return Buffer.concat([pb.varint((id << 3) | 2), pb.varint(content.length), content]);
  },
  /** An AnyValue holding an array holding an AnyValue… `levels` deep, written outside-in in one pass. */
  nestedArrays(levels: number): Buffer {
    const prefixes: Buffer[] = [];
    let anyValueSize = 0;
    for (let level = 0; level < levels; level += 1) {
      const arraySize = 1 + pb.varint(anyValueSize).length + anyValueSize;
      prefixes.push(Buffer.concat([Buffer.from([0x2a]), pb.varint(arraySize), Buffer.from([0x0a]), pb.varint(anyValueSize)]));
      anyValueSize = 1 + pb.varint(arraySize).length + arraySize;
    }
    return Buffer.concat(prefixes.reverse());
  },
  /**
   * `body` with `marker` replaced by as many `bytes`: strings no serializer writes (invalid UTF-8,
   * say), in a message whose lengths stay right. The marker is looked for inside `within`, the text
   * around it, which must occur once: random ids and clock times may hold a short marker's bytes too.
   */
  replaced(body: Buffer, marker: string, bytes: number[], within = marker): Buffer {
    const around = body.indexOf(within);
    if (
      around === -1 ||
      body.indexOf(within, around + 1) !== -1 ||
      !within.includes(marker) ||
      Buffer.byteLength(marker) !== bytes.length
    ) {
      throw new Error(`'${within}' must occur once in the body, '${marker}' in it as long as the bytes replacing it`);
    }
    const at = body.indexOf(marker, around);
    return Buffer.concat([body.subarray(0, at), Buffer.from(bytes), body.subarray(at + bytes.length)]);
  },
  /** A request whose only content is one resource attribute with this encoded AnyValue. */
  resourceAttribute(anyValue: Buffer): Buffer {
    const keyValue = Buffer.concat([pb.field(1, Buffer.from('k')), pb.field(2, anyValue)]);
    return pb.field(1, pb.field(1, pb.field(1, keyValue)));
  },
};
