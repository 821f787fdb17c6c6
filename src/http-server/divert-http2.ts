import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** What an HTTP/2 client in plain text with prior knowledge (RFC 9113 §3.4), as gRPC clients are, sends first. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/**
 * Connections to the HTTP/1.1 `server` that open with HTTP/2's preface go to `take`; every other one
 * to the server's own handling, with the bytes read to tell them apart put back first. A connection
 * that sends nothing within `timeoutMs` is closed, as one that never finishes its headers is.
 *
 * Called before anything else listens for the server's connections: the listeners there are Node's
 * own handling of a connection, which now runs once a connection is known to be HTTP/1.
 */
export function divertHttp2(server: Server, take: (socket: Socket) => void, timeoutMs: number): void {
  const http1 = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    let seen: Buffer = Buffer.alloc(0);
    const timedOut = () => socket.destroy();
    const read = (chunk: Buffer) => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const compared = Math.min(seen.length, HTTP2_PREFACE.length);
      const http2 = seen.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
      // "PRI" and "POST" share their first byte: a short read decides nothing yet.
      if (http2 && compared < HTTP2_PREFACE.length) return;
      socket.removeListener('data', read);
      socket.removeListener('timeout', timedOut);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(seen);
      if (http2) {
        take(socket);
        return;
      }
      for (const listener of http1) listener.call(server, socket);
      socket.resume();
    };
    socket.setTimeout(timeoutMs, timedOut);
    socket.on('data', read);
  });
}
