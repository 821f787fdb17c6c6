import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody, FieldProblem } from '../api-schemas.ts';

/** A request the server refuses, with the JSON answer it deserves: `{error: {code, message, fields?}}`. */
export class ApiError extends HTTPException {
  readonly code: string;
  readonly fields: FieldProblem[] | undefined;
  constructor(status: ContentfulStatusCode, code: string, message: string, fields?: FieldProblem[]) {
    super(status, { message });
    this.name = 'ApiError';
    this.code = code;
    this.fields = fields;
  }

  body(): ErrorBody {
    return errorBody(this.code, this.message, this.fields);
  }
}

export function errorBody(code: string, message: string, fields?: FieldProblem[]): ErrorBody {
  return { error: { code, message, ...(fields && { fields }) } };
}
