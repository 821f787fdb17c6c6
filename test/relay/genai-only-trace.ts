import type { LocalSpan } from '../../src/spans/local-span.ts';

export const HEX = '4bf92f3577b34da6a3ce929d0e0e4736';
export const QUESTION = 'What is the capital of France?';

/**
 * What a stock OpenTelemetry app instrumented with the GenAI conventions alone sends: agent → chat,
 * tool; its root also carries a stray `mlflow.traceRequestId`, which must never reach MLflow.
 */
export function genAiOnlyTrace(): LocalSpan[] {
  const base = {
    traceId: HEX,
    kind: 0,
    status: { code: 0 as const },
    events: [],
    resource: { 'service.name': 'python-agent' },
    scope: { name: 'opentelemetry.instrumentation.genai' },
  };
  const input = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: QUESTION }] }]);
  const output = JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Paris.' }], finish_reason: 'stop' }]);
  return [
    {
      ...base,
      spanId: '00f067aa0ba902b7',
      parentSpanId: null,
      name: 'invoke_agent geo-agent',
      startTimeUnixNano: '1764806400000000000',
      endTimeUnixNano: '1764806401000000000',
      attributes: {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': 'geo-agent',
        'gen_ai.input.messages': input,
        'gen_ai.output.messages': output,
        'mlflow.traceRequestId': `tr-${HEX}`,
      },
    },
    {
      ...base,
      spanId: '00f067aa0ba902b8',
      parentSpanId: '00f067aa0ba902b7',
      name: 'chat gpt-4o-mini',
      startTimeUnixNano: '1764806400100000000',
      endTimeUnixNano: '1764806400600000000',
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 12,
        'gen_ai.usage.output_tokens': 7,
        'gen_ai.input.messages': input,
        'gen_ai.output.messages': output,
      },
    },
    {
      ...base,
      spanId: '00f067aa0ba902b9',
      parentSpanId: '00f067aa0ba902b7',
      name: 'execute_tool lookup_capital',
      startTimeUnixNano: '1764806400700000000',
      endTimeUnixNano: '1764806400800000000',
      attributes: {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'lookup_capital',
        'gen_ai.tool.call.arguments': '{"country":"France"}',
        'gen_ai.tool.call.result': '{"capital":"Paris"}',
      },
    },
  ];
}
