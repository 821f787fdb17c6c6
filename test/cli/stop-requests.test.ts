import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { copiesOfLastRequest, countStopRequests, SAME_REQUEST_MS } from '../../src/cli/stop-requests.ts';

/** Signals arriving at the given times (ms), and the requests they made. */
function requestsOf(arrivals: [NodeJS.Signals, number][]): [NodeJS.Signals, number][] {
  const requests: [NodeJS.Signals, number][] = [];
  let clock = 0;
  const listener = countStopRequests(
    (signal, count) => requests.push([signal, count]),
    copiesOfLastRequest(() => clock),
  );
  for (const [signal, at] of arrivals) {
    clock = at;
    listener(signal);
  }
  return requests;
}

describe('stop requests', () => {
  it('a Ctrl-C that reaches the process twice (from the terminal, and passed on by the launcher) is one request', () => {
    assert.deepEqual(
      requestsOf([
        ['SIGINT', 5_000],
        ['SIGINT', 5_003],
      ]),
      [['SIGINT', 1]],
    );
  });

  it('systemd signalling every process of the service (the launcher passes its copy on too) is one request', () => {
    assert.deepEqual(
      requestsOf([
        ['SIGTERM', 5_000],
        ['SIGTERM', 5_000 + SAME_REQUEST_MS - 1],
      ]),
      [['SIGTERM', 1]],
    );
  });

  it('a signal after the moment has passed is a second request: "now"', () => {
    assert.deepEqual(
      requestsOf([
        ['SIGINT', 5_000],
        ['SIGINT', 5_001],
        ['SIGTERM', 5_000 + SAME_REQUEST_MS],
      ]),
      [
        ['SIGINT', 1],
        ['SIGTERM', 2],
      ],
    );
  });

  it('copies keep counting from the request they belong to, so a stream of them cannot hold off a second request', () => {
    const step = SAME_REQUEST_MS / 2;
    assert.deepEqual(
      requestsOf([
        ['SIGINT', 0],
        ['SIGINT', step],
        ['SIGINT', 2 * step],
        ['SIGINT', 3 * step],
      ]),
      [
        ['SIGINT', 1],
        ['SIGINT', 2],
      ],
    );
  });

  it('listeners taking turns share what a copy is: the copy of the Ctrl-C that ended run’s program is no request to stop delivering', () => {
    let clock = 0;
    const copies = copiesOfLastRequest(() => clock);
    const program: [NodeJS.Signals, number][] = [];
    const delivery: [NodeJS.Signals, number][] = [];
    const whileProgramRuns = countStopRequests((signal, count) => program.push([signal, count]), copies);
    const whileDelivering = countStopRequests((signal, count) => delivery.push([signal, count]), copies);
    clock = 5_000;
    whileProgramRuns('SIGINT');
    clock = 5_004;
    whileDelivering('SIGINT');
    clock = 5_000 + SAME_REQUEST_MS;
    whileDelivering('SIGINT');
    assert.deepEqual(program, [['SIGINT', 1]]);
    assert.deepEqual(delivery, [['SIGINT', 1]]);
  });
});
