import { decodeOtlpProtobuf } from '../otlp/otlp-decode.ts';
import { toLocalSpans } from '../otlp/to-local-spans.ts';
import type { LocalSpan } from '../spans/local-span.ts';
import { STRUCTURED_ON_OTLP } from '../tracing/encode-attributes.ts';

/** What a list shows of a trace without reading its spans, derived as MLflow derives it. */
export interface TraceFacts {
  /** The earliest span's start, in whole milliseconds. */
  startMs: number;
  /** To the microsecond. */
  durationMs: number;
  rootName: string;
  status: 'OK' | 'ERROR' | 'IN_PROGRESS';
  spanCount: number;
  tokens?: { input: number; output: number; total: number };
  requestPreview?: string;
  responsePreview?: string;
}

/**
 * One trace encoded once, as every OTLP destination takes it: an `ExportTraceServiceRequest` of this
 * trace alone. Its top-level field (repeated `resource_spans`) is all it holds, so the bytes of many
 * traces put one after the other are the request that carries them all: a batch is never re-encoded.
 */
export interface EncodedTrace {
  /** The OTel trace id, 32 lowercase hex digits. */
  hex: string;
  otlp: Uint8Array;
  facts: TraceFacts;
}

/**
 * Whether the bytes are whole `resource_spans` fields one after the other, as encodeTrace makes them:
 * a record cut short or overwritten on disk is found without decoding it, and is never sent.
 */
export function isWholeRequest(otlp: Uint8Array): boolean {
  let at = 0;
  while (at < otlp.length) {
    if (otlp[at++] !== RESOURCE_SPANS_TAG) return false;
    let length = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = otlp[at++];
      if (byte === undefined || shift > 28) return false;
      length += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) break;
    }
    at += length;
  }
  return at === otlp.length && otlp.length > 0;
}

/** Field 1 (`resource_spans`), length-delimited. */
const RESOURCE_SPANS_TAG = 0x0a;

/**
 * A stored trace's spans, decoded when someone asks to see them (or a REST destination needs them):
 * the object-valued MLflow keys back to the JSON text they were recorded as.
 */
export function decodeTrace(otlp: Uint8Array): LocalSpan[] {
  return inStartOrder(toLocalSpans(decodeOtlpProtobuf(otlp), { jsonText: STRUCTURED_ON_OTLP }).spans);
}

/** Sorted in place by start time, a parent before its children on ties: the order a trace is stored and sent in. */
export function inStartOrder(spans: LocalSpan[]): LocalSpan[] {
  const depth = (span: LocalSpan) => (span.parentSpanId === null ? 0 : 1);
  return spans.sort((a, b) => {
    const startA = BigInt(a.startTimeUnixNano);
    const startB = BigInt(b.startTimeUnixNano);
    return startA === startB ? depth(a) - depth(b) : startA < startB ? -1 : 1;
  });
}
