import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SAME_REQUEST_MS } from '../../src/cli/stop-requests.ts';

const STOP_SIGNAL_COPIES = fileURLToPath(new URL('../../src/preload/stop-signal-copies.cts', import.meta.url));

/**
 * A program's SIGTERM handler, run with what `run` requires first, in a process group of its own as
 * under run: it says so each time it runs, and does `then` the first time. A SIGTERM "from outside"
 * comes from another process, as a supervisor's does. `end()` ends the program two turns of its event
 * loop later, once a signal sent meanwhile has been delivered. What it printed, a word a line.
 */
async function heard(then: string): Promise<string[]> {
  const program = `
    const { execFileSync } = require('node:child_process');
    const fromOutside = () => execFileSync('kill', ['-TERM', String(process.pid)]);
    const end = () => setImmediate(() => setImmediate(() => process.exit(0)));
    let times = 0;
    process.on('SIGTERM', () => {
      console.log('heard');
      if (++times === 1) { ${then} }
      else end();
    });
    fromOutside();
    setInterval(() => {}, 1000);
  `;
  // Its own group: a signal the program sends to its group reaches no one else.
  const child = spawn(process.execPath, ['--require', STOP_SIGNAL_COPIES, '-e', program], {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const [code] = await once(child, 'close');
  assert.equal(code, 0);
  return stdout.split('\n').filter(Boolean);
}

describe('the copies of a request to stop, in the program run runs', () => {
  it('drops a copy from outside a moment after the request: a supervisor signalling the program as run passes its own on', async () => {
    assert.deepEqual(await heard('fromOutside(); end();'), ['heard']);
  });

  it('lets a request through once the moment has passed: a person who means "now"', async () => {
    assert.deepEqual(await heard(`setTimeout(() => { fromOutside(); end(); }, ${SAME_REQUEST_MS + 50});`), ['heard', 'heard']);
  });

  it('lets through the signal the program raises at itself, by pid or to its group, as clean-ups ending by their signal do', async () => {
    assert.deepEqual(await heard('process.kill(process.pid, "SIGTERM"); end();'), ['heard', 'heard']);
    assert.deepEqual(await heard('process.kill(process.pid, 15); end();'), ['heard', 'heard']);
    assert.deepEqual(await heard('process.kill(0, "SIGTERM"); end();'), ['heard', 'heard']);
  });

  it('leaves the program’s own process.emit of a signal alone', async () => {
    assert.deepEqual(await heard('process.emit("SIGTERM"); end();'), ['heard', 'heard']);
  });
});
