import { open, type FileHandle } from 'node:fs/promises';
import { jsonWithoutSecrets } from '../../config/configured-secrets.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';

export interface ResultsFile {
  /** Appends one JSON line; lines land in call order, each written before the next starts. */
  write(value: unknown): Promise<void>;
  close(): Promise<void>;
}

/** `--output`: NDJSON, written line by line as results arrive, so a run cut short keeps what it had. */
export async function openResultsFile(path: string, shownAs = path): Promise<ResultsFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'w');
  } catch (error) {
    throw new ExpectedError(`cannot write ${shownAs}: ${(error as Error).message}`, {
      exitCode: ExitCode.usage,
      hint: 'choose a --output path in a directory you can write to',
    });
  }
  let last: Promise<void> = Promise.resolve();
  return {
    write(value) {
      last = last.then(async () => {
        await handle.write(`${jsonWithoutSecrets(value)}\n`);
      });
      return last;
    },
    async close() {
      await last.catch(() => undefined);
      await handle.close();
    },
  };
}
