import type { OtlpEncoding } from '../config/types.ts';

/**
 * An OTLP/HTTP body's encoding from its media type; parameters such as `charset` do not change it.
 * Undefined for any other type: a request the receiver refuses, an answer no OTLP receiver gave.
 */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === 'application/x-protobuf') return 'protobuf';
  if (mediaType === 'application/json') return 'json';
  return undefined;
}
