import { randomBytes } from 'node:crypto';
import { TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { sendTestTrace } from '../src/commands/doctor/test-traces.ts';
import { encodeLocalTrace, encodeTrace } from '../src/destination/encode-trace.ts';
import { decodeTrace } from '../src/destination/encoded-trace.ts';
import { TraceAssembler } from '../src/pipeline/assemble/trace-assembler.ts';
import type { LocalSpan } from '../src/spans/local-span.ts';
import type { TraceToStore } from '../src/pipeline/store/trace-writes.ts';

/** One doctor test trace (4 spans) as the assembler hands it on. */
function doctorSpans(): ReadableSpan[] {
  let assembled: ReadableSpan[] | undefined;
  const assembler = new TraceAssembler({ onTrace: (spans) => (assembled = spans) });
  const provider = new TracerProvider({ spanProcessors: [assembler] });
  sendTestTrace(provider.getTracer('bench'), 0, 'bench');
  if (!assembled) throw new Error('the doctor trace did not come out of the assembler whole');
  return assembled;
}

/** The doctor test trace as the store reads it back. */
export function doctorTrace(): LocalSpan[] {
  return decodeTrace(encodeTrace(doctorSpans()).otlp);
}

/**
 * `count` copies of one trace under fresh trace ids, each starting 1 ms after the last, so the store
 * sees distinct traces in time order without the bench paying for building spans.
 */
export function copiesOf(
  template: readonly LocalSpan[],
  count: number,
  options: { destination?: string; firstIndex?: number } = {},
): TraceToStore[] {
  const out: TraceToStore[] = [];
  for (let i = 0; i < count; i++) {
    const traceId = randomBytes(16).toString('hex');
    const shiftNs = BigInt((options.firstIndex ?? 0) + i) * 1_000_000n;
    const spans = template.map((span) => ({
      ...span,
      traceId,
      startTimeUnixNano: (BigInt(span.startTimeUnixNano) + shiftNs).toString(),
      endTimeUnixNano: (BigInt(span.endTimeUnixNano) + shiftNs).toString(),
    }));
    out.push({ ...encodeLocalTrace(spans), origin: 'bench', ...(options.destination && { destination: options.destination }) });
  }
  return out;
}
