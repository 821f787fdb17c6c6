export { requestSpan, type RequestSpan, type RequestSpanOptions, type RequestSpanVariables } from './request-span.ts';
