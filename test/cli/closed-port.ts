import { createServer } from 'node:net';

/**
 * Ports below the range the kernel hands out for port 0 (Linux 32768–60999, macOS 49152–65535): the
 * servers of other tests, all started on port 0, cannot take one between this call and its use,
 * which would answer with their server instead of a refused connection.
 */
const FIRST = 20_000;
const LAST = 32_767;

/** An address on which nothing listens: a free port that no test's server is given meanwhile. */
export async function closedPortUrl(): Promise<string> {
  for (;;) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST + 1));
    if (await isFree(port)) return `http://127.0.0.1:${port}`;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
