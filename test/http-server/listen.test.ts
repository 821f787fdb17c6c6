import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect as connectHttp2 } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { Hono } from 'hono';
import { ExitCode, ExpectedError } from '../../src/errors.ts';
import { listen } from '../../src/http-server/listen.ts';

describe('listen', () => {
  it('a port in use is a usage error naming the flag of the command that asked for it', async () => {
    const first = await listen(new Hono(), { host: '127.0.0.1', port: 0, portFlag: '--port' });
    const port = Number(new URL(first.url).port);
    try {
      const error = await listen(new Hono(), { host: '127.0.0.1', port, portFlag: '--grpc-port' }).then(
        () => assert.fail('listened twice on one port'),
        (failure: unknown) => failure,
      );
      assert.ok(error instanceof ExpectedError);
      assert.equal(error.message, `cannot listen on 127.0.0.1:${port}: the port is in use`);
      assert.equal(error.exitCode, ExitCode.usage);
      assert.match(error.hint ?? '', /with --grpc-port,/);
    } finally {
      await first.close(0);
    }
  });

  /** A server with a request in progress that never ends by itself; `answer` says how it ended for its client. */
  async function withRequestInProgress() {
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const app = new Hono().get('/never', () => {
      started();
      return new Promise<Response>(() => {});
    });
    const server = await listen(app, { host: '127.0.0.1', port: 0, portFlag: '--port' });
    const answer = fetch(`${server.url}/never`).then(
      () => 'answered',
      () => 'cut',
    );
    await running;
    return { server, answer };
  }

  it('close lets requests in progress run for the grace period, tells the app it is over, then cuts their connections', async () => {
    const { server, answer } = await withRequestInProgress();
    const events: string[] = [];
    const closed = server.close(50, { whenGraceOver: () => events.push('grace over') }).then(() => events.push('closed'));
    assert.equal(await answer, 'cut');
    await closed;
    assert.deepEqual(events, ['grace over', 'closed']);
  });

  it('close ends the grace period when it is interrupted: a second Ctrl-C does not wait for a request that does not end', async () => {
    const { server, answer } = await withRequestInProgress();
    const interrupt = new AbortController();
    const events: string[] = [];
    // A grace far longer than any test: only the interrupt can end it.
    const closed = server.close(3_600_000, { whenGraceOver: () => events.push('grace over'), interrupt: interrupt.signal });
    interrupt.abort();
    await closed;
    assert.equal(await answer, 'cut');
    assert.deepEqual(events, ['grace over']);
  });

  describe('with connections speaking HTTP/2 in plain text diverted', () => {
    const app = new Hono().post('/echo', async (c) => c.text(`got ${(await c.req.text()).length}`));
    const limits = {
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
      checkIntervalMs: 1_000,
      maxConnections: 10,
    };

    /** What a raw connection gets back for `chunks`, written one by one, each after the last was sent. */
    async function exchange(url: string, chunks: string[]): Promise<string> {
      const socket = connect(Number(new URL(url).port), '127.0.0.1');
      await once(socket, 'connect');
      let answer = '';
      socket.on('data', (data: Buffer) => (answer += data));
      for (const chunk of chunks) await new Promise((resolve) => socket.write(chunk, resolve));
      await once(socket, 'close');
      return answer;
    }

    it('serves HTTP/1.1 as before, a request sent whole or a byte at a time, and never calls the HTTP/2 handler', async () => {
      const diverted: Socket[] = [];
      const server = await listen(app, {
        host: '127.0.0.1',
        port: 0,
        portFlag: '--port',
        limits,
        http2: (socket) => diverted.push(socket),
      });
      try {
        const big = 'x'.repeat(3_000_000);
        assert.equal(await (await fetch(`${server.url}/echo`, { method: 'POST', body: big })).text(), `got ${big.length}`);
        const request = 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc';
        // Its first byte alone could still begin HTTP/2's preface ("PRI"): only the second tells them apart.
        const answer = await exchange(server.url, [...request.slice(0, 4), request.slice(4)]);
        assert.match(answer, /^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\ngot 3$/);
        assert.deepEqual(diverted, []);
      } finally {
        await server.close(0);
      }
    });

    it('hands a connection that opens with HTTP/2’s preface to the handler, nothing of it read', async () => {
      let diverted!: (socket: Socket) => void;
      const taken = new Promise<Socket>((resolve) => (diverted = resolve));
      const server = await listen(app, { host: '127.0.0.1', port: 0, portFlag: '--port', limits, http2: (socket) => diverted(socket) });
      const client = connectHttp2(server.url);
      client.on('error', () => {});
      try {
        const socket = await taken;
        // Paused, as a handler that pipes it elsewhere would find it.
        const read = once(socket, 'data');
        socket.resume();
        const [bytes] = (await read) as [Buffer];
        assert.equal(bytes.subarray(0, 24).toString('latin1'), 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
        socket.destroy();
      } finally {
        client.destroy();
        await server.close(0);
      }
    });

    it('closes a connection that sends nothing once the headers timeout is over', async () => {
      const server = await listen(app, {
        host: '127.0.0.1',
        port: 0,
        portFlag: '--port',
        limits: { ...limits, headersTimeoutMs: 50 },
        http2: () => assert.fail('nothing was sent to divert'),
      });
      try {
        assert.equal(await exchange(server.url, []), '');
      } finally {
        await server.close(0);
      }
    });
  });
});
