import type { Source } from './types.ts';

/** Below this length even four characters say too much about a secret. */
const MIN_LENGTH_TO_SHOW_TAIL = 20;
const TAIL_LENGTH = 4;

/** Enough of a secret to tell two apart, never enough to use one. */
export function maskSecret(value: string): string {
  return value.length >= MIN_LENGTH_TO_SHOW_TAIL ? `****${value.slice(-TAIL_LENGTH)}` : '****';
}

export function describeSource(source: Source): string {
  switch (source.kind) {
    case 'flag':
      return `flag ${source.name}`;
    case 'env':
      return `env ${source.name}`;
    case 'dotenv':
      return `.env (${source.path}) ${source.name}`;
    case 'file':
      return `config file ${source.path} key ${source.key}`;
    case 'databrickscfg':
      return `${source.path} [${source.profile}] ${source.key}`;
    case 'default':
      return 'default';
    case 'derived':
      // Read after "from" in messages: "(from derived from …)" says nothing twice.
      return source.from;
  }
}
