import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How an HTTP server's connections stand, for the health page. */
export interface ConnectionCounts {
  open: number;
  /** Cut at the cap to let a newcomer in, or newcomers refused there (every connection had a request in progress). */
  cut_at_cap: number;
  /** Closed by the header or request timeout: a client too slow to send its request. */
  timed_out: number;
}

/**
 * Holds an HTTP server to at most `max` connections without letting clients that never finish a
 * request lock real ones out. At the cap a newcomer is let in and a waiting connection is cut:
 * first the oldest that never sent a whole request (a client dribbling its headers, a port scan),
 * then the longest idle keep-alive one, which its client reopens when it next needs it. A
 * connection with a request in progress is never cut; when every connection has one, the newcomer
 * is refused.
 */
export function capConnections(server: Server, max: number): () => ConnectionCounts {
  // Sets keep insertion order: the first entry is the one waiting longest.
  const neverServed = new Set<Socket>();
  const idle = new Set<Socket>();
  const open = new Set<Socket>();
  const counts = { cut_at_cap: 0, timed_out: 0 };
  const forget = (socket: Socket): void => {
    open.delete(socket);
    neverServed.delete(socket);
    idle.delete(socket);
  };

  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      counts.cut_at_cap += 1;
      const waiting = first(neverServed) ?? first(idle);
      if (!waiting) {
        socket.destroy();
        return;
      }
      forget(waiting);
      waiting.destroy();
    }
    open.add(socket);
    neverServed.add(socket);
    socket.once('close', () => forget(socket));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') counts.timed_out += 1;
    });
  });
  // Before the handler, which may answer at once.
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    neverServed.delete(socket);
    idle.delete(socket);
    res.once('close', () => {
      if (open.has(socket) && !socket.destroyed) idle.add(socket);
    });
  });

  return () => ({ open: open.size, ...counts });
}

function first<T>(set: Set<T>): T | undefined {
  for (const item of set) return item;
  return undefined;
}
