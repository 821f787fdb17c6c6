import { createServer } from 'node:net';

/** An address on which nothing listens: a port that was free a moment ago. */
export async function closedPortUrl(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
  return `http://127.0.0.1:${port}`;
}
