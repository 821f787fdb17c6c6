/**
 * A receiver that reads the program's spans and drops them, in a process of its own, so that its
 * work is neither the tool's nor done on the load generator's event loop. Answers as the tool's
 * receiver answers (an empty ExportTraceServiceResponse): the preload takes no other answer for one.
 * Prints its URL, then serves until killed.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const receiver = createServer((req, res) => {
  req.resume();
  req.once('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
});
receiver.listen(0, '127.0.0.1');
await once(receiver, 'listening');
process.stdout.write(`dropping spans at http://127.0.0.1:${(receiver.address() as AddressInfo).port}\n`);
process.once('SIGTERM', () => receiver.close(() => process.exit(0)));
