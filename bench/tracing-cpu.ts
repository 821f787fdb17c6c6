import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { decodeOtlpProtobuf } from '../src/otlp/otlp-decode.ts';
import { cleanEnv } from './children.ts';
import { median, type Row } from './stats.ts';

const CHILD = fileURLToPath(new URL('./tracing-cpu-child.ts', import.meta.url));
const run = promisify(execFile);
type Mode = 'none' | 'stock' | 'pipeline';

/**
 * The per-span CPU of otel-mlflow's pipeline (assembly, one encoding, the fsynced store, delivery)
 * held to the stock OpenTelemetry SDK's (BatchSpanProcessor + OTLPTraceExporter) for the same spans,
 * both delivering to one loopback OTLP sink in this process: each is a child process's CPU for making
 * and sending the spans, less a child's that only makes them. Rounds alternate the three.
 */
export async function benchTracingCpu(options: { traces: number; rounds: number }): Promise<Row[]> {
  let received = 0;
  const sink = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const request_ = decodeOtlpProtobuf(request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body);
      for (const resourceSpans of request_) received += resourceSpans.spans.length;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(sink.address() as { port: number }).port}/v1/traces`;
  const cpu: Record<Mode, number[]> = { none: [], stock: [], pipeline: [] };
  const modes: Mode[] = ['none', 'stock', 'pipeline'];
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < modes.length; i++) {
        const mode = modes[(i + round) % modes.length]!;
        received = 0;
        const { stdout } = await run(process.execPath, [CHILD, mode, url, String(options.traces)], { env: cleanEnv({}) });
        const result = JSON.parse(stdout) as { cpuMs: number; spans: number; sent: number };
        if (mode !== 'none' && received !== result.sent) throw new Error(`${mode}: the sink received ${received} of ${result.sent} spans`);
        cpu[mode].push((result.cpuMs * 1000) / result.spans);
      }
    }
  } finally {
    await new Promise((resolve) => sink.close(resolve));
  }
  const make = median(cpu.none);
  const stock = median(cpu.stock) - make;
  const ours = median(cpu.pipeline) - make;
  return [
    {
      name: 'tracing CPU per span: otel-mlflow / stock SDK',
      raw: `${ours.toFixed(1)} µs / ${stock.toFixed(1)} µs (store + delivery / BatchSpanProcessor + OTLPTraceExporter; making a span ${make.toFixed(1)} µs)`,
      ratio: ours / stock,
      target: '≤ 1.00×',
      met: ours <= stock,
    },
  ];
}
