import type { ClaimedTrace } from '../store/trace-store.ts';

/**
 * What one delivery request came to. `retry`: the trace is fine, the server is not (down, busy, timed
 * out); `refused`: the server will not take this request as it is, and one trace in it may be the cause.
 */
export type DeliveryOutcome =
  | { kind: 'delivered'; status?: number }
  | { kind: 'retry'; status?: number; answer: string; retryAfterMs?: number }
  | { kind: 'refused'; status?: number; answer: string };

/** Where traces go: MLflow over OTLP or REST, a Unity Catalog table, a collector. */
export interface Destination {
  /** Stable identity of the destination, kept with each pending trace so only it delivers the trace. */
  readonly key: string;
  /** For people: 'MLflow at http://127.0.0.1:5000, experiment 1 (OTLP)'. */
  readonly description: string;
  /** Traces in one request: many on OTLP, one on REST (one StartTraceV3 per trace). */
  readonly maxTracesPerRequest: number;
  readonly maxBytesPerRequest: number;
  /** Sends the traces in one request (REST: the trace's requests). Never throws. */
  send(traces: readonly ClaimedTrace[]): Promise<DeliveryOutcome>;
  /**
   * After the server took them: what must follow delivery (linking the traces to a run). Never
   * throws; says what went wrong, if anything (the traces stay delivered: they are in MLflow).
   */
  afterDelivered?(traces: readonly ClaimedTrace[]): Promise<string | undefined>;
}
