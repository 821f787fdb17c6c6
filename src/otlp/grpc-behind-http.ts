import { connect, type Socket } from 'node:net';
import type { OtlpGrpcOptions, OtlpGrpcReceiver } from './otlp-grpc-receiver.ts';

export interface GrpcBehindHttp {
  /** A connection that opened with HTTP/2's preface, its first bytes put back: served by the gRPC receiver. */
  take(socket: Socket): void;
  /** Closes the receiver, if one was started: its calls in progress finish first, and the connections passed to it end. */
  close(): Promise<void>;
}

/**
 * OTLP/gRPC for a port that serves OTLP/HTTP. An app is given one endpoint
 * (OTEL_EXPORTER_OTLP_ENDPOINT), which a gRPC exporter reads as well as an HTTP one: some choose gRPC
 * in code whatever OTEL_EXPORTER_OTLP_PROTOCOL says (Go's otlptracegrpc, Rust's tonic exporter), and
 * some by default (Python's distro). Their connections are passed to a gRPC receiver on a loopback
 * port of its own, started on the first of them: apps that send over HTTP never load gRPC.
 */
export function grpcBehindHttp(options: Omit<OtlpGrpcOptions, 'host' | 'port'>): GrpcBehindHttp {
  let receiver: Promise<OtlpGrpcReceiver> | undefined;
  let closed = false;
  const start = async () => {
    const { startOtlpGrpcReceiver } = await import('./otlp-grpc-receiver.ts');
    return startOtlpGrpcReceiver({ ...options, host: '127.0.0.1', port: 0 });
  };
  return {
    take(socket) {
      if (closed) {
        socket.destroy();
        return;
      }
      receiver ??= start();
      const starting = receiver;
      starting.then(
        ({ port }) => {
          if (closed || socket.destroyed) socket.destroy();
          else splice(socket, connect(port, '127.0.0.1'));
        },
        () => {
          // The next connection tries again.
          if (receiver === starting) receiver = undefined;
          socket.destroy();
        },
      );
    },
    async close() {
      closed = true;
      const started = await receiver?.catch(() => undefined);
      await started?.close();
    },
  };
}

/** Each socket's bytes to the other, until either ends: then both close. */
function splice(client: Socket, upstream: Socket): void {
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  for (const socket of [client, upstream]) {
    socket.once('close', end);
    socket.on('error', end);
  }
  client.pipe(upstream);
  upstream.pipe(client);
}
