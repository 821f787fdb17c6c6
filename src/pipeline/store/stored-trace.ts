import type { LocalTrace } from '../../spans/local-span.ts';

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
