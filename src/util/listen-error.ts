import { ExitCode, ExpectedError } from '../errors.ts';

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);
const HOST_HINT = '--host takes an address of this machine: 127.0.0.1 (this machine only, the default), 0.0.0.0 (every interface), or one interface’s address';

/** Why a server could not listen, with the flag that fixes it: a port in use is not a host that does not exist. */
export function cannotListen(host: string, port: number, error: unknown, portFlag: string): ExpectedError {
  const code = (error as NodeJS.ErrnoException).code;
  const at = `cannot listen on ${host}:${port}`;
  const usage = (why: string, hint: string) => new ExpectedError(`${at}: ${why}`, { exitCode: ExitCode.usage, hint, cause: error });
  if (code === 'EADDRINUSE') return usage('the port is in use', `choose another port with ${portFlag}, or stop what is using it`);
  if (code === 'EACCES') return usage('permission denied', `ports below 1024 need privileges: choose a higher one with ${portFlag}`);
  if (code === 'EADDRNOTAVAIL') return usage(`${host} is not an address of this machine`, HOST_HINT);
  if (code !== undefined && DNS_CODES.has(code)) return usage(`${host} is neither an address nor a name that resolves (${code})`, HOST_HINT);
  return usage(error instanceof Error ? error.message : String(error), `check --host and ${portFlag}`);
}
