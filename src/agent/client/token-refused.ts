import { ExitCode, ExpectedError } from '../../errors.ts';

/** A server started with --auth-token refused ours (or its absence): exit 5, as for any refused credential. */
export function tokenRefused(url: string, detail: string, options: { flag: boolean }): ExpectedError {
  return new ExpectedError(`${url} refused the request: ${detail}`, {
    exitCode: ExitCode.auth,
    hint: `set OTEL_MLFLOW_AUTH_TOKEN (in the environment or .env${options.flag ? ', or pass --auth-token' : ''}) to the token the server was started with`,
  });
}
