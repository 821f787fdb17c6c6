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

/** How spans' scopes are told apart: by name and version, as one tracer's spans share a scope. */
export function scopeKey(scope: LocalSpan['scope']): string {
  return scope.version === undefined ? scope.name : `${scope.name}\u0000${scope.version}`;
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
