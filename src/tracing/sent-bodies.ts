import { context, trace } from '@opentelemetry/api';
import { CallSpan } from './call-span.ts';

type Fetch = (url: unknown, init?: { body?: unknown }) => Promise<Response>;

/** The clients' fetch functions that hand the bodies they send to the calls waiting for them. */
const observing = new WeakSet<Fetch>();

/**
 * An LLM SDK serialises each request once, for the wire: that text becomes the call's inputs (see
 * CallSpan.inputsAsSent), not a second serialisation of the request. Only bodies sent to `path`:
 * the client sends other requests under the call's context too (a credential exchange before it),
 * and their bodies hold secrets.
 */
export function observeSentBodies(client: object, path: RegExp): void {
  const internal = client as { fetch: Fetch };
  const fetch = internal.fetch;
  // A client derived with withOptions() starts with its parent's fetch, observed already.
  if (observing.has(fetch)) return;
  internal.fetch = function (this: unknown, url, init) {
    const span = trace.getSpan(context.active());
    if (span && path.test(String(url))) CallSpan.sentBody(span, init?.body);
    return fetch.call(this, url, init);
  };
  observing.add(internal.fetch);
}
