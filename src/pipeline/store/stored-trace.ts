/** One span, JSON-safe, with enough of the SDK's ReadableSpan to rebuild it for any destination. */
export interface LocalSpan {
  /** Lowercase hex. */
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  /** Set when the parent lives in another process (an incoming traceparent), as the SDK marks it. */
  parentIsRemote?: true;
  name: string;
  kind: number;
  /** Decimal strings: nanosecond times exceed 2^53. */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status: { code: 0 | 1 | 2; message?: string };
  attributes: Record<string, string | number | boolean | string[] | number[] | boolean[]>;
  events: { name: string; timeUnixNano: string; attributes: Record<string, unknown> }[];
  resource: Record<string, string | number | boolean>;
  scope: { name: string; version?: string };
}

/** OTel status codes 0, 1, 2 by the names MLflow shows. */
export const SPAN_STATUS_NAMES = ['UNSET', 'OK', 'ERROR'] as const;

export interface LocalTrace {
  /** `tr-` + 32 lowercase hex digits, as MLflow names it. */
  traceId: string;
  /** ISO time of the last write (late spans rewrite the trace). */
  savedAt: string;
  /** In start-time order, a parent before its children on ties. */
  spans: LocalSpan[];
}

export type LocalTraceStatus = 'OK' | 'ERROR' | 'IN_PROGRESS';

/**
 * Where a stored trace stands on its way out: `local` (no destination: kept for `traces push`),
 * `pending` (waiting for its destination), `delivered`, or `dead` (refused for good, with the answer).
 */
export type DeliveryState = 'local' | 'pending' | 'delivered' | 'dead';
export const DELIVERY_STATES: readonly DeliveryState[] = ['local', 'pending', 'delivered', 'dead'];

export interface LocalTraceSummary {
  traceId: string;
  /** ISO time of the earliest span's start. */
  startTime: string;
  rootName: string;
  status: LocalTraceStatus;
  spanCount: number;
  durationMs: number;
  tokens?: { input: number; output: number; total: number };
  requestPreview?: string;
  responsePreview?: string;
}

/** The delivery side of a stored trace: what was tried, and what the destination last answered. */
export interface DeliveryInfo {
  state: DeliveryState;
  /** The destination it is pending for or was delivered to (a `destinationKey`); absent for local traces. */
  destination?: string;
  /** The command that produced it (`serve`, `ask`, `doctor`, …). */
  origin: string;
  attempts: number;
  lastTryAt?: string;
  lastStatus?: number;
  /** The server's answer or the network error of the last failed try. */
  lastAnswer?: string;
}

export type StoredTraceSummary = LocalTraceSummary & { delivery: DeliveryInfo };
export type StoredTrace = LocalTrace & { delivery: DeliveryInfo };
