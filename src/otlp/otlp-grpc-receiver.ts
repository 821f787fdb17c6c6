import { Metadata, Server, ServerCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js';
import { bearerTokenMatches } from '../http-server/bearer-token.ts';
import { decodeOtlpProtobuf } from './otlp-decode.ts';
import { DEFAULT_MAX_BODY_BYTES } from './otlp-http-receiver.ts';
import type { OtlpIngest } from './otlp-ingest.ts';
import { encodeExportResponse, encodeStatus } from './otlp-messages.ts';
import { INTERNAL_ERROR_MESSAGE, receiveExport } from './receive-export.ts';

/**
 * OTLP/gRPC traces (https://opentelemetry.io/docs/specs/otlp/#otlpgrpc): the TraceService's Export
 * on a plain-text port. grpc-js does the transport, gzip included; the request bytes are decoded
 * in the handler rather than by the service's deserializer, so that an undecodable message gets
 * INVALID_ARGUMENT as the spec says, not the INTERNAL grpc-js gives a failing deserializer.
 */

export const OTLP_TRACES_METHOD = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
/** How long close() lets calls in progress finish before cutting them off. */
const GRPC_SHUTDOWN_GRACE_MS = 5_000;
/**
 * grpc-js has no connection cap and no handshake timeout: a connection that never makes a call (or
 * never finishes its HTTP/2 preface) would hold a file descriptor for ever. Closing connections idle
 * this long bounds that as the OTLP/HTTP port's header timeout does; it is longer than the 5 s an
 * SDK's BatchSpanProcessor waits between exports, so a busy exporter keeps its connection.
 */
const GRPC_IDLE_MS = 10_000;
/** One Export at a time is what an exporter sends; a hundred per connection is generous and still bounded. */
const GRPC_MAX_CONCURRENT_STREAMS = 100;

export interface OtlpGrpcOptions {
  ingest: OtlpIngest;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** When set, calls must carry `authorization: Bearer <token>` metadata. */
  token?: string;
  /** The largest message accepted, after decompression. */
  maxMessageBytes?: number;
  /** A connection without a call in progress for this long is closed (GOAWAY; clients reconnect for their next call). */
  idleMs?: number;
}

export interface OtlpGrpcReceiver {
  /** The port bound (the chosen one when asked for 0). */
  port: number;
  close(): Promise<void>;
}

const identity = (bytes: Buffer): Buffer => bytes;

const traceService: ServiceDefinition = {
  Export: {
    path: OTLP_TRACES_METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export async function startOtlpGrpcReceiver(options: OtlpGrpcOptions): Promise<OtlpGrpcReceiver> {
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = new Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_connection_idle_ms': options.idleMs ?? GRPC_IDLE_MS,
    'grpc.max_concurrent_streams': GRPC_MAX_CONCURRENT_STREAMS,
  });
  server.addService(traceService, {
    Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      exportTraces(call, options).then(
        (answer) => callback(answer.error ?? null, answer.response),
        () => callback({ code: GrpcStatus.INTERNAL, details: INTERNAL_ERROR_MESSAGE }),
      );
    },
  });
  const address = options.host.includes(':') ? `[${options.host}]:${options.port}` : `${options.host}:${options.port}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, boundPort) => (error ? reject(error) : resolve(boundPort)));
  });
  return { port, close: () => shutDown(server) };
}

interface GrpcAnswer {
  error?: { code: GrpcStatus; details: string; metadata?: Metadata };
  response?: Buffer;
}

async function exportTraces(call: ServerUnaryCall<Buffer, Buffer>, options: OtlpGrpcOptions): Promise<GrpcAnswer> {
  const metadata = call.metadata;
  if (options.token !== undefined && !bearerTokenMatches(textValue(metadata, 'authorization'), options.token)) {
    return { error: { code: GrpcStatus.UNAUTHENTICATED, details: 'missing or wrong bearer token in the authorization metadata' } };
  }
  const outcome = await receiveExport((repairs) => decodeOtlpProtobuf(call.request, repairs), options.ingest, {
    headers: forwardedMetadata(metadata),
    transport: 'grpc',
  });
  switch (outcome.kind) {
    case 'success':
      return { response: encodeExportResponse('protobuf', outcome) };
    case 'invalid':
      return { error: { code: GrpcStatus.INVALID_ARGUMENT, details: outcome.message } };
    case 'busy':
    case 'unavailable': {
      // RESOURCE_EXHAUSTED is retryable only with RetryInfo; UNAVAILABLE always is, and takes the delay too.
      const code = outcome.kind === 'busy' ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.UNAVAILABLE;
      const trailers = new Metadata();
      trailers.set('grpc-status-details-bin', encodeStatus('protobuf', code, outcome.message, outcome.retryAfterSeconds));
      return { error: { code, details: outcome.message, metadata: trailers } };
    }
    case 'internal':
      return { error: { code: GrpcStatus.INTERNAL, details: INTERNAL_ERROR_MESSAGE } };
  }
}

function textValue(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/** Text metadata the ingest may route by; binary values and the checked credential stay here. */
function forwardedMetadata(metadata: Metadata): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(metadata.getMap()).flatMap(([key, value]) =>
      key !== 'authorization' && typeof value === 'string' ? [[key, value]] : [],
    ),
  );
}

async function shutDown(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    const deadline = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, GRPC_SHUTDOWN_GRACE_MS);
    server.tryShutdown(() => {
      clearTimeout(deadline);
      resolve();
    });
  });
}
