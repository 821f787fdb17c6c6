import type { LocalSpan } from '../spans/local-span.ts';

/** What a receiver hands over: the valid spans of one export request, and how it came. */
export interface OtlpBatch {
  spans: LocalSpan[];
  /**
   * The request's headers (HTTP) or metadata (gRPC), names lower-case, e.g. `x-mlflow-experiment-id`.
   * The credential the receiver checked (`authorization`) is not passed on.
   */
  headers: Record<string, string | undefined>;
  transport: 'http' | 'grpc';
  /** Strings that were not valid UTF-8 and are in `spans` repaired with U+FFFD. */
  repairedStrings: number;
}

export type OtlpIngestResult =
  | { kind: 'accepted' }
  /** The whole batch refused for a reason the client must fix: HTTP 400, gRPC INVALID_ARGUMENT. */
  | { kind: 'rejected'; message: string }
  /**
   * Not now: `busy` (HTTP 429, gRPC RESOURCE_EXHAUSTED with RetryInfo) or `unavailable` (HTTP 503,
   * gRPC UNAVAILABLE); the client retries after `retryAfterSeconds` (sent rounded up to whole
   * seconds, at least one).
   */
  | { kind: 'busy' | 'unavailable'; retryAfterSeconds: number; message: string };

/**
 * The one seam between the OTLP receivers and whoever keeps the spans. Answer `accepted` only once
 * the spans are safe: the client forgets them on success. A throw becomes a generic internal error
 * for the client (HTTP 500, gRPC INTERNAL).
 */
export type OtlpIngest = (batch: OtlpBatch) => Promise<OtlpIngestResult>;
