import type { Tracer } from '@opentelemetry/api';

/** What every package's instrumentation in the program is given. */
export interface InstrumentationSettings {
  tracer: Tracer;
  captureContent: boolean;
  contentAttributes: 'mlflow' | 'gen_ai';
}
