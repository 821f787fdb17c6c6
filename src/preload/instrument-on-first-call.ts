/** A resource of an SDK client (`client.chat.completions`, `client.messages`): its class, whose instances know their client. */
export interface ResourceClass<Client extends object> {
  prototype: { _client: Client; create(...args: unknown[]): unknown };
}

type Resource = ResourceClass<object>['prototype'];

/**
 * Instruments each client of an SDK on its first call of any of `resources`, whichever the program
 * calls first: the client classes are the program's (a binding it imported cannot be replaced under
 * ESM), so the resources' shared prototypes are patched instead of the constructor. `instrument`
 * wraps the client's own resource objects, and this first call goes through them too.
 */
export function instrumentOnFirstCall<Client extends object>(
  resources: readonly ResourceClass<Client>[],
  instrument: (client: Client) => void,
): void {
  const instrumented = new WeakSet<object>();
  for (const resource of resources) {
    const prototype = resource.prototype as Resource;
    const create = prototype.create;
    prototype.create = function (this: Resource, ...args: unknown[]) {
      const client = this._client;
      if (!instrumented.has(client)) {
        instrumented.add(client);
        instrument(client as Client);
        if (Object.hasOwn(this, 'create')) return this.create(...args);
      }
      return create.apply(this, args);
    };
  }
}
