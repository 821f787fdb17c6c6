import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetchServerHealth } from '../../../src/agent/client/server-health.ts';
import { ExitCode, ExpectedError } from '../../../src/errors.ts';
import { closedPortUrl } from '../../cli/closed-port.ts';
import { startFaultyProxy, type FaultyProxy } from '../../fakes/faulty-proxy.ts';
import { rejection } from '../../fakes/rejection.ts';

const HINT = 'start it with otel-mlflow serve';

const refusal = (promise: Promise<unknown>) => rejection(promise, ExpectedError);

describe('the health check of a running server (ask --url, suite --url)', () => {
  let proxy: FaultyProxy;
  before(async () => {
    // Every request meets a fault, so nothing is forwarded.
    proxy = await startFaultyProxy(await closedPortUrl());
  });
  after(() => proxy.close());

  it('fails with the cause when GET / answers a gigabyte, and stops reading it', async () => {
    proxy.mode = { kind: 'huge', status: 200, bytes: 1024 ** 3 };
    const error = await refusal(fetchServerHealth(new URL(proxy.url), HINT));
    assert.equal(
      error.message,
      `${proxy.url} answered GET / with more than 1 MiB (HTTP 200, text/html): not an answer otel-mlflow serve gives — is something else listening there?`,
    );
    assert.equal(error.exitCode, ExitCode.unreachable);
    assert.equal(error.hint, HINT);
    const sent = await proxy.requests.at(-1)!.hugeAnswer!;
    assert.ok(sent.bytesWritten < 32 * 1024 * 1024, `the proxy wrote ${sent.bytesWritten} bytes`);
  });

  it('names a redirect to a sign-in page instead of following it', async () => {
    proxy.mode = { kind: 'redirect', location: '/login' };
    const error = await refusal(fetchServerHealth(new URL(proxy.url), HINT));
    assert.equal(
      error.message,
      `GET ${proxy.url}/ was redirected (302) to ${proxy.url}/login: a login proxy in front of otel-mlflow serve?`,
    );
    assert.equal(proxy.requests.filter((r) => r.path === '/login').length, 0);
  });
});
