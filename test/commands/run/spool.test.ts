import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { createSpool } from '../../../src/commands/run/spool.ts';

let server: Server | undefined;

afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

/** A receiver answering with `statuses` in turn (the last one from then on), keeping the bodies it took. */
async function receiver(statuses: number[]): Promise<{ url: string; taken: string[] }> {
  const taken: string[] = [];
  let asked = 0;
  server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const status = statuses[Math.min(++asked, statuses.length) - 1]!;
    if (status === 200) taken.push(body);
    res.writeHead(status).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, taken };
}

describe("run's spool", () => {
  it('sends whole files on, keeps what the receiver turned away for the next round, and goes once empty', async () => {
    const fake = await receiver([503, 200]);
    const spool = await createSpool();
    writeFileSync(join(spool.dir, '1-0-1.otlp'), 'spans of an exited process');
    writeFileSync(join(spool.dir, '1-0-2.part'), 'half written');
    assert.equal(await spool.drain(fake.url), 1, 'turned away: left for the next round');
    assert.equal(await spool.drain(fake.url), 0);
    assert.deepEqual(fake.taken, ['spans of an exited process'], 'a half-written file is never sent');
    assert.deepEqual(readdirSync(spool.dir), ['1-0-2.part']);
    assert.equal(await spool.close(), 0);
    assert.equal(existsSync(spool.dir), false);
  });

  it('keeps the directory while the receiver does not take what is in it, and says how much', async () => {
    const fake = await receiver([503]);
    const spool = await createSpool();
    writeFileSync(join(spool.dir, '1-0-1.otlp'), 'a');
    writeFileSync(join(spool.dir, '2-0-1.otlp'), 'b');
    assert.equal(await spool.drain(fake.url), 2);
    assert.equal(await spool.close(), 2);
    assert.deepEqual(readdirSync(spool.dir).sort(), ['1-0-1.otlp', '2-0-1.otlp']);
    rmSync(spool.dir, { recursive: true });
  });
});
