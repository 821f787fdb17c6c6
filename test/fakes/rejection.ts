import assert from 'node:assert/strict';

/** What `promise` rejects with, asserted to be a `type`; the test fails if it resolves. */
export async function rejection<T extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  const error = await promise.then(
    () => assert.fail(`expected ${type.name}, but it succeeded`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
  return error;
}
