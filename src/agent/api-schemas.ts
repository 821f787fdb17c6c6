import { z } from '@hono/zod-openapi';
import { MAX_QUERY_CHARS, MAX_STEPS, TOP_K } from './request-limits.ts';

const MAX_ID_CHARS = 256;

function text(max: number, example?: string) {
  const schema = z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);
  return example === undefined ? schema : schema.openapi({ example });
}

function wholeNumber(range: { min: number; max: number; default: number }) {
  const message = `must be a whole number from ${range.min} to ${range.max}`;
  return z.number({ error: message }).int(message).min(range.min, message).max(range.max, message).default(range.default);
}

/**
 * A request body: an object of exactly these fields. A misspelt optional field (`sesion_id`) would
 * otherwise be dropped without a word, so unknown fields are refused, each named with the known ones.
 */
function requestBody<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `is not a field of this request (known fields: ${known})` : 'must be a JSON object',
  });
}

const Usage = z
  .object({ input_tokens: z.number().int(), output_tokens: z.number().int(), total_tokens: z.number().int() })
  .openapi('Usage');

/** Every answer: the text, the model, what route-specific fields there are, the tokens, and the trace. */
function answerResponse<T extends z.core.$ZodLooseShape>(fields: T) {
  return z.object({
    answer: z.string(),
    model: z.string(),
    ...fields,
    usage: Usage,
    trace_id: z.string().nullable().openapi({
      description: "MLflow's id of this request's trace; null when no trace was recorded (tracing off, or the request not sampled)",
      example: 'tr-4bf92f3577b34da6a3ce929d0e0e4736',
    }),
    trace_url: z
      .string()
      .nullable()
      .openapi({ description: 'The trace in the MLflow UI; null when the experiment is not known (a collector, the local store)' }),
  });
}

export const ChatRequest = requestBody({
  query: text(MAX_QUERY_CHARS, 'What is OpenTelemetry?'),
  session_id: text(MAX_ID_CHARS).optional().openapi({ description: 'Groups traces into a session in MLflow' }),
  user_id: text(MAX_ID_CHARS).optional(),
  stream: z.boolean({ error: 'must be true or false' }).optional().openapi({
    description: 'Answer as server-sent events: `delta` events with `{"text"}`, then one `done` event with the full response',
  }),
}).openapi('ChatRequest');

export const ChatResponse = answerResponse({}).openapi('ChatResponse');

export const RagRequest = requestBody({
  query: text(MAX_QUERY_CHARS, 'Explain MLflow tracing'),
  top_k: wholeNumber(TOP_K),
}).openapi('RagRequest');

export const RagResponse = answerResponse({
  sources: z.array(z.object({ id: z.string(), title: z.string(), score: z.number(), url: z.string().optional() })),
}).openapi('RagResponse');

export const AgentTaskRequest = requestBody({
  task: text(MAX_QUERY_CHARS, 'Analyze distributed tracing benefits'),
  max_steps: wholeNumber(MAX_STEPS),
}).openapi('AgentTaskRequest');

export const AgentTaskResponse = answerResponse({
  finished: z.boolean().openapi({ description: 'False when max_steps ran out before a final answer' }),
  steps: z.array(
    z.object({
      step: z.number().int(),
      tool_calls: z.array(z.object({ name: z.string(), arguments: z.unknown(), result: z.unknown() })),
    }),
  ),
}).openapi('AgentTaskResponse');

export const HealthResponse = z
  .object({
    status: z.literal('ok'),
    version: z.string(),
    tracing: z.object({
      destination: z.string(),
      kind: z
        .enum(['mlflow', 'databricks', 'unity-catalog', 'collector', 'local'])
        .optional()
        .openapi({ description: 'where traces are meant to go' }),
      experiment: z.object({ id: z.string(), name: z.string().optional(), url: z.string().optional() }).optional(),
      route: z.string().optional().openapi({
        description:
          '`otlp` or `rest` into MLflow, `unity-catalog`, `collector`, `local`, or `pending` while the destination has not answered',
      }),
      problem: z
        .object({ since: z.string(), reason: z.string() })
        .optional()
        .openapi({ description: 'why the destination is not resolved: traces wait on disk meanwhile' }),
      store_dir: z
        .string()
        .optional()
        .openapi({ description: 'the trace store every trace is written to first (and kept in, when route is `local`)' }),
      delivery: z
        .object({
          pending: z.number().int().openapi({ description: 'traces waiting on disk for the destination' }),
          dead: z.number().int().openapi({ description: 'traces the destination refused for good' }),
          delivered: z.number().int().openapi({ description: 'traces this server delivered since it started' }),
          last_error: z
            .object({ status: z.number().int().optional(), answer: z.string(), at: z.string() })
            .nullable()
            .openapi({ description: 'the last failed delivery, while the destination has not recovered' }),
          not_stored: z
            .number()
            .int()
            .optional()
            .openapi({ description: 'traces that could not be written to the store since the server started' }),
          store_problem: z
            .object({ since: z.string(), reason: z.string() })
            .optional()
            .openapi({ description: 'set while the store cannot be written: requests are turned away with 503 meanwhile' }),
        })
        .optional(),
    }),
    llm: z.object({ provider: z.string(), model: z.string() }),
    uptime_seconds: z.number(),
  })
  .openapi('Health');

export type HealthInfo = z.infer<typeof HealthResponse>;

export const ErrorResponse = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'invalid_request' }),
      message: z.string(),
      fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error');

export type ErrorBody = z.infer<typeof ErrorResponse>;
export type FieldProblem = NonNullable<ErrorBody['error']['fields']>[number];
