import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instrumentOnFirstCall, type ResourceClass } from '../../src/preload/instrument-on-first-call.ts';

interface Client {
  name: string;
}

/** A resource class as the SDKs generate them: `create` on the prototype, the client on the instance. */
function resourceClass(clientField: '_client' | 'client') {
  return class Resource {
    [key: string]: unknown;
    constructor(client: Client) {
      this[clientField] = client;
    }
    create(question: string): string {
      return `answered ${question}`;
    }
  };
}

describe('instrumentOnFirstCall', () => {
  it('instruments each client once, on its first call of any resource, however the SDK names the client', () => {
    const [Current, Early] = [resourceClass('_client'), resourceClass('client')];
    const instrumented: string[] = [];
    instrumentOnFirstCall([Current, Early] as unknown as ResourceClass<Client>[], (client) => {
      instrumented.push(client.name);
    });
    const [first, second] = [{ name: 'first' }, { name: 'second' }];
    assert.equal(new Current(first).create('a'), 'answered a');
    assert.equal(new Current(first).create('b'), 'answered b');
    assert.equal(new Early(second).create('c'), 'answered c');
    assert.deepEqual(instrumented, ['first', 'second']);
  });

  it('leaves out a resource the SDK version does not have', () => {
    const Current = resourceClass('_client');
    const instrumented: string[] = [];
    const resources = [undefined, Current] as unknown as ResourceClass<Client>[];
    instrumentOnFirstCall(resources, (client) => {
      instrumented.push(client.name);
    });
    assert.equal(new Current({ name: 'only' }).create('a'), 'answered a');
    assert.deepEqual(instrumented, ['only']);
  });

  it('lets a call through untraced when its client cannot be instrumented', () => {
    const Current = resourceClass('_client');
    instrumentOnFirstCall([Current] as unknown as ResourceClass<Client>[], () => {
      throw new TypeError('a client shaped otherwise');
    });
    const resource = new Current({ name: 'odd' });
    assert.equal(resource.create('a'), 'answered a');
    assert.equal(resource.create('b'), 'answered b');
  });
});
