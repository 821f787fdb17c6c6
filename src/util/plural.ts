/** `1 trace`, `3 traces`, `2 batches`: English plurals of the nouns this tool counts. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}
