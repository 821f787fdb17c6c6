import type { DeliveryOutcome } from './classify-answer.ts';

/**
 * Sends what waits in the outbox to one destination, one request's worth at a time. It never throws:
 * every answer, and every failure to get one, is a DeliveryOutcome.
 */
export interface Sender<Item> {
  /** For people: `MLflow at http://127.0.0.1:5000, experiment 'my-app' (id 3), over OTLP`. */
  readonly description: string;
  /** Items in one request: many traces over OTLP, one over REST, one run or score. */
  readonly maxItemsPerRequest: number;
  readonly maxBytesPerRequest: number;
  send(items: readonly Item[]): Promise<DeliveryOutcome>;
}

/** A trace as the outbox hands it to a sender. */
export interface OutgoingTrace {
  /** The OTel trace id, 32 lowercase hex digits. */
  hex: string;
  /** `tr-` + hex, as MLflow names it. */
  traceId: string;
  /** The trace as encoded once when it was stored (see EncodedTrace): a batch is these put together. */
  otlp: Uint8Array;
  /** Tries started before this one: a REST trace tried before is looked up before it is registered again. */
  attempts: number;
}
