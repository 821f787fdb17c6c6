/** MLflow's id for an OTel trace: the client knows it before the server answers. */
export function mlflowTraceId(otelTraceIdHex: string): string {
  return `tr-${otelTraceIdHex.toLowerCase()}`;
}

/** REST traces.json wants the raw id bytes in base64; a hex string there is valid base64 and silently misread. */
export function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}
