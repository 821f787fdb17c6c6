import assert from 'node:assert/strict';
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
});
