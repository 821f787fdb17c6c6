import type { Hook } from '@hono/zod-openapi';
import { ApiError } from './api-error.ts';
import type { ServerEnv } from './server-env.ts';

/** A body that parses but breaks the schema: 422, naming every field and what is wrong with it. */
export const rejectInvalidRequest: Hook<unknown, ServerEnv, string, undefined> = (result) => {
  if (result.success) return;
  // An issue about unknown fields lists them together; each gets its own entry, named by its path.
  const fields = result.error.issues.flatMap((issue) =>
    (issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path]).map((path) => ({
      path: path.map(String).join('.') || '(body)',
      message: issue.message,
    })),
  );
  throw new ApiError(422, 'invalid_request', fields.map((field) => `${field.path} ${field.message}`).join('; '), fields);
};
