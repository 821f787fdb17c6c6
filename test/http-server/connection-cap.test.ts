import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { capConnections, type ConnectionCounts } from '../../src/http-server/connection-cap.ts';
import { until } from '../fakes/until.ts';

const CAP = 3;
/** Longer than any wait of the test: idle connections stay until the cap cuts them. */
const KEEP_ALIVE_MS = 60_000;
const REQUEST = 'GET / HTTP/1.1\r\nHost: relay\r\n\r\n';

interface RawClient {
  socket: Socket;
  /** Everything the server sent, so far. */
  received: () => string;
  closed: Promise<unknown>;
}

describe('the connection cap', () => {
  let server: Server;
  let port: number;
  let counts: () => ConnectionCounts;
  let accepted = 0;
  const held: (() => void)[] = [];
  const clients: RawClient[] = [];

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hold') held.push(() => res.end('released'));
      else res.end('ok');
    });
    counts = capConnections(server, CAP);
    server.on('connection', () => (accepted += 1));
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    for (const client of clients) client.socket.destroy();
    server.close();
    server.closeAllConnections();
    await once(server, 'close');
  });

  /** A client that writes `text`, once the server has taken (or refused) its connection. */
  async function client(text: string): Promise<RawClient> {
    const acceptedBefore = accepted;
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', () => {});
    const raw = { socket, received: () => data, closed: once(socket, 'close') };
    clients.push(raw);
    await until(() => accepted > acceptedBefore, 'the server took the connection');
    return raw;
  }

  it('lets a newcomer in at the cap by cutting the oldest connection that never sent a whole request, before an older idle one', async () => {
    const keptAlive = await client(REQUEST);
    await until(() => keptAlive.received().includes('ok'), 'the first client has its answer');
    const [dribbler1, dribbler2] = [await client('POST /v1/tra'), await client('POST /v1/tra')];

    const newcomer = await client(REQUEST);
    await dribbler1!.closed;
    await until(() => newcomer.received().includes('ok'), 'the newcomer is answered');
    const another = await client(REQUEST);
    await dribbler2!.closed;
    await until(() => another.received().includes('ok'), 'the next newcomer is answered');
    assert.equal(keptAlive.socket.destroyed, false, 'the idle keep-alive connection was cut only once no dribbler was left');

    const third = await client(REQUEST);
    await keptAlive.closed;
    await until(() => third.received().includes('ok'), 'and then the longest idle one made room');
    assert.deepEqual(counts(), { open: CAP, cut_at_cap: 3, timed_out: 0 });
    for (const done of [newcomer, another, third]) done.socket.destroy();
    await until(() => counts().open === 0, 'the clients are gone');
  });

  it('never cuts a connection with a request in progress: when all have one, the newcomer is refused', async () => {
    const cutBefore = counts().cut_at_cap;
    const holding = await Promise.all(Array.from({ length: CAP }, () => client('GET /hold HTTP/1.1\r\nHost: relay\r\n\r\n')));
    await until(() => held.length === CAP, 'every request is in progress');
    const refused = await client(REQUEST);
    await refused.closed;
    assert.equal(refused.received(), '');
    for (const release of held) release();
    await until(() => holding.every((request) => request.received().includes('released')), 'every request in progress is answered');
    assert.equal(counts().cut_at_cap, cutBefore + 1, 'the refusal is counted');
  });
});
