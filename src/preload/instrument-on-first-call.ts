import { diag } from '@opentelemetry/api';

/** A resource of an SDK client (`client.chat.completions`, `client.messages`): its class, whose instances know their client. */
export interface ResourceClass<Client extends object> {
  prototype: { _client: Client; client?: Client; create(...args: unknown[]): unknown };
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
  // An older version of the SDK may not have every resource (openai before 4.87 has no Responses API).
  for (const resource of resources.filter((candidate) => typeof candidate?.prototype?.create === 'function')) {
    const prototype = resource.prototype as Resource;
    const create = prototype.create;
    prototype.create = function (this: Resource, ...args: unknown[]) {
      // openai 4.0 to 4.18 name it `client`.
      const client = this._client ?? this.client;
      if (typeof client === 'object' && client !== null && !instrumented.has(client)) {
        instrumented.add(client);
        // A client the instrumentation cannot take (a version shaped otherwise) makes its calls untraced, never failed.
        try {
          instrument(client as Client);
        } catch (error) {
          diag.error('otel-mlflow: a client could not be instrumented; its calls are not traced', error);
        }
        if (Object.hasOwn(this, 'create')) return this.create(...args);
      }
      return create.apply(this, args);
    };
  }
}
