import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { adoptSpool, createSpool } from '../../src/pipeline/spool/spool.ts';

const SETTINGS = '0123456789abcdef';
const OTHER_SETTINGS = 'fedcba9876543210';

let server: Server | undefined;
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'otel-mlflow-spool-'));
});

afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  rmSync(root, { recursive: true, force: true });
});

/** A receiver answering with `statuses` in turn (the last one from then on), keeping the bodies it took. */
async function receiver(statuses: number[]): Promise<{ tracesUrl: string; taken: string[] }> {
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
  return { tracesUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, taken };
}

/** The id of a process that has ended. */
function endedPid(): number {
  const ended = spawnSync(process.execPath, ['-e', '']);
  return ended.pid!;
}

/** A directory another run left: its mark as that run wrote it (none: made again by its program), and a file of spans. */
function leftByAnotherRun(
  settings: string,
  mark: { pid: number; host: string; ageMs?: number } | undefined,
  spans = `spans of a run with ${settings}`,
): string {
  const dir = join(root, 'spool', `${settings}-${Math.random().toString(16).slice(2, 14).padEnd(12, '0')}`);
  mkdirSync(dir, { recursive: true });
  if (mark) {
    const path = join(dir, '.alive');
    writeFileSync(path, JSON.stringify({ pid: mark.pid, host: mark.host }));
    const at = new Date(Date.now() - (mark.ageMs ?? 0));
    utimesSync(path, at, at);
  }
  writeFileSync(join(dir, '4242-0-1.otlp'), spans);
  return dir;
}

describe("run's spool", () => {
  it('sends whole files on, keeps what the receiver turned away for the next round, and goes once empty', async () => {
    const fake = await receiver([503, 200]);
    const spool = await createSpool([join(root, 'spool')], SETTINGS);
    writeFileSync(join(spool.dirs[0]!, '1-0-1.otlp'), 'spans of an exited process');
    writeFileSync(join(spool.dirs[0]!, '1-0-2.part'), 'half written');
    assert.equal(await spool.drain(fake), 1, 'turned away: left for the next round');
    assert.equal(await spool.drain(fake), 0);
    assert.deepEqual(fake.taken, ['spans of an exited process'], 'a half-written file is never sent');
    assert.deepEqual(readdirSync(spool.dirs[0]!).sort(), ['.alive', '1-0-2.part']);
    assert.deepEqual(await spool.close(), { left: 0, leftIn: [], adopted: 0, othersLeft: 0, othersIn: [], lost: new Map() });
    assert.equal(existsSync(spool.dirs[0]!), false);
  });

  it('keeps the directory while the receiver does not take what is in it, and says how much', async () => {
    const fake = await receiver([503]);
    const spool = await createSpool([join(root, 'spool')], SETTINGS);
    writeFileSync(join(spool.dirs[0]!, '1-0-1.otlp'), 'a');
    writeFileSync(join(spool.dirs[0]!, '2-0-1.otlp'), 'b');
    assert.equal(await spool.drain(fake), 2);
    assert.deepEqual(await spool.close(), { left: 2, leftIn: [spool.dirs[0]!], adopted: 0, othersLeft: 0, othersIn: [], lost: new Map() });
    assert.deepEqual(readdirSync(spool.dirs[0]!).sort(), ['.alive', '1-0-1.otlp', '2-0-1.otlp']);
  });

  it('takes over what a run with the same settings left when its process ended, and what its program leaves there later', async () => {
    const fake = await receiver([200]);
    const left = leftByAnotherRun(SETTINGS, { pid: endedPid(), host: hostname() }, 'spans after the tool was killed');
    const spool = await createSpool([join(root, 'spool')], SETTINGS);
    assert.equal(await spool.drain(fake), 0);
    assert.deepEqual(fake.taken, ['spans after the tool was killed']);
    assert.deepEqual(readdirSync(join(root, 'spool')), [spool.dirs[0]!.split('/').at(-1)], 'the directory is gone once sent on');

    // Its program lives on and makes the directory again for its next spans, with no mark.
    mkdirSync(left);
    writeFileSync(join(left, '4242-0-2.otlp'), 'spans spooled later');
    await spool.drain(fake);
    assert.deepEqual(fake.taken, ['spans after the tool was killed', 'spans spooled later']);
    assert.deepEqual(await spool.close(), { left: 0, leftIn: [], adopted: 2, othersLeft: 0, othersIn: [], lost: new Map() });
    assert.deepEqual(readdirSync(join(root, 'spool')), []);
  });

  it('tells the losses the program’s processes marked, its own and a stopped run’s, each sender’s largest once, and the directories go', async () => {
    const fake = await receiver([200]);
    const left = leftByAnotherRun(SETTINGS, { pid: endedPid(), host: hostname() });
    writeFileSync(join(left, '4242.0-3.lost'), '');
    const spool = await createSpool([join(root, 'spool')], SETTINGS);
    writeFileSync(join(spool.dirs[0]!, '77.0-1.lost'), '');
    writeFileSync(join(spool.dirs[0]!, '77.1-1.lost'), '');
    assert.equal(await spool.drain(fake), 0);
    // The first thread lost another batch since, and says so by a new mark (its older one is gone).
    writeFileSync(join(spool.dirs[0]!, '77.0-2.lost'), '');
    writeFileSync(join(spool.dirs[0]!, 'not-a-mark.lost'), '');
    const end = await spool.close();
    assert.deepEqual(
      end.lost,
      new Map([
        ['4242.0', 3],
        ['77.0', 2],
        ['77.1', 1],
      ]),
    );
    assert.deepEqual(readdirSync(join(root, 'spool')), [], 'nothing left to send: both directories went');
  });

  it('counts what it took over and the receiver turned away as left, so that the end of a run waits for it and says where', async () => {
    const fake = await receiver([503]);
    leftByAnotherRun(SETTINGS, { pid: endedPid(), host: hostname() });
    const spool = await createSpool([join(root, 'spool')], SETTINGS);
    assert.equal(await spool.drain(fake), 1, 'one file left, though none of this run’s own');
    const end = await spool.close();
    assert.deepEqual([end.left, end.adopted, end.leftIn.length], [1, 0, 1]);
    assert.notEqual(end.leftIn[0], spool.dirs[0], 'the directory taken over, which the next run takes over in turn');
    assert.ok(existsSync(join(end.leftIn[0]!, '4242-0-1.otlp')));
  });

  it('takes over a directory whose mark names this process: an earlier process had the same id (a container’s pid 1)', async () => {
    const fake = await receiver([200]);
    leftByAnotherRun(SETTINGS, { pid: process.pid, host: hostname() });
    const spool = await createSpool([join(root, 'spool')], SETTINGS);
    await spool.drain(fake);
    assert.equal(fake.taken.length, 1);
    assert.equal((await spool.close()).adopted, 1);
  });

  it('leaves a running run’s directory alone, and one of another machine until its mark is a minute old', async () => {
    const fake = await receiver([200]);
    const running = leftByAnotherRun(SETTINGS, { pid: process.ppid, host: hostname() }, 'a running run’s');
    const elsewhere = leftByAnotherRun(SETTINGS, { pid: endedPid(), host: 'another-container', ageMs: 30_000 }, 'recently elsewhere');
    const gone = leftByAnotherRun(SETTINGS, { pid: process.ppid, host: 'another-container', ageMs: 61_000 }, 'long ago elsewhere');
    const spool = await createSpool([join(root, 'spool')], SETTINGS);
    await spool.drain(fake);
    assert.deepEqual(fake.taken, ['long ago elsewhere']);
    assert.deepEqual(await spool.close(), { left: 0, leftIn: [], adopted: 1, othersLeft: 0, othersIn: [], lost: new Map() });
    assert.ok(existsSync(join(running, '4242-0-1.otlp')) && existsSync(join(elsewhere, '4242-0-1.otlp')));
    assert.equal(existsSync(gone), false);
  });

  it('has a directory in each root the program can fall back on, drains them all and takes over in each', async () => {
    const fake = await receiver([200]);
    const [beside, temporary] = [join(root, 'spool'), join(root, 'tmp', 'otel-mlflow-spool')];
    const left = join(temporary, `${SETTINGS}-${'0'.repeat(12)}`);
    mkdirSync(left, { recursive: true });
    writeFileSync(join(left, '7-0-1.otlp'), 'left in the fallback by a killed run');
    const spool = await createSpool([beside, temporary], SETTINGS);
    assert.deepEqual(
      spool.dirs.map((dir) => dir.slice(0, dir.lastIndexOf('/'))),
      [beside, temporary],
    );
    writeFileSync(join(spool.dirs[1]!, '1-0-1.otlp'), 'the store’s disk was full');
    assert.equal(await spool.drain(fake), 0);
    assert.deepEqual(fake.taken.sort(), ['left in the fallback by a killed run', 'the store’s disk was full']);
    assert.deepEqual(await spool.close(), { left: 0, leftIn: [], adopted: 1, othersLeft: 0, othersIn: [], lost: new Map() });
  });

  it('does without a root another user could read or make, and sends on nothing found there', {
    skip: process.getuid === undefined && 'no user ids here',
  }, async () => {
    const fake = await receiver([200]);
    const open = join(root, 'open');
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    // Files someone else could have put there, to be sent to this user's MLflow.
    const planted = join(open, `${SETTINGS}-000000000000`);
    mkdirSync(planted);
    writeFileSync(join(planted, '4242-0-1.otlp'), 'spans of unknown origin');
    const spool = await createSpool([join(root, 'spool'), open], SETTINGS);
    assert.equal(spool.dirs.length, 1);
    assert.equal(await spool.drain(fake), 0);
    await spool.close();
    const adopting = await adoptSpool([join(root, 'spool'), open], SETTINGS);
    assert.equal(await adopting.drain(fake), 0);
    await adopting.close();
    assert.deepEqual(fake.taken, []);
    assert.deepEqual(readdirSync(open), [`${SETTINGS}-000000000000`], 'nothing written there, nothing taken');
    await assert.rejects(createSpool([open], SETTINGS), /not a directory of this user's alone/);
  });

  it('takes in, with no directory of its own, what stopped runs with its settings left (relay, traces push)', async () => {
    const fake = await receiver([200]);
    leftByAnotherRun(SETTINGS, { pid: endedPid(), host: hostname() }, 'spans of a killed run');
    leftByAnotherRun(OTHER_SETTINGS, { pid: endedPid(), host: hostname() });
    const spool = await adoptSpool([join(root, 'spool'), join(root, 'no-such-root')], SETTINGS);
    assert.deepEqual(spool.dirs, []);
    assert.equal(await spool.drain(fake), 0);
    assert.deepEqual(fake.taken, ['spans of a killed run']);
    const end = await spool.close();
    assert.deepEqual([end.adopted, end.left, end.othersLeft], [1, 0, 1]);
    assert.equal(readdirSync(join(root, 'spool')).length, 1, 'the other settings’ directory alone is left');
  });

  it('touches its mark as it drains, so that other runs see it running however long it runs', async () => {
    const fake = await receiver([200]);
    let clock = Date.now();
    const spool = await createSpool([join(root, 'spool')], SETTINGS, () => clock);
    const mark = join(spool.dirs[0]!, '.alive');
    clock += 10 * 60_000;
    await spool.drain(fake);
    assert.equal(Math.round(statSync(mark).mtimeMs / 1000), Math.round(clock / 1000));
    await spool.close();
  });

  it('leaves what a run with other settings left for a run with those, and counts it', async () => {
    const fake = await receiver([200]);
    const other = leftByAnotherRun(OTHER_SETTINGS, { pid: endedPid(), host: hostname() });
    const spool = await createSpool([join(root, 'spool')], SETTINGS);
    await spool.drain(fake);
    assert.deepEqual(fake.taken, []);
    assert.deepEqual(await spool.close(), {
      left: 0,
      leftIn: [],
      adopted: 0,
      othersLeft: 1,
      othersIn: [join(root, 'spool')],
      lost: new Map(),
    });
    assert.ok(existsSync(join(other, '4242-0-1.otlp')));
  });

  it('gives one of two runs taking over the same directory its files, the other none', async () => {
    const fake = await receiver([200]);
    leftByAnotherRun(SETTINGS, { pid: endedPid(), host: hostname() });
    const [a, b] = await Promise.all([createSpool([join(root, 'spool')], SETTINGS), createSpool([join(root, 'spool')], SETTINGS)]);
    await Promise.all([a.drain(fake), b.drain(fake)]);
    assert.equal(fake.taken.length, 1, 'sent once');
    const ends = await Promise.all([a.close(), b.close()]);
    assert.deepEqual(ends.map((end) => end.adopted).sort(), [0, 1]);
  });
});
