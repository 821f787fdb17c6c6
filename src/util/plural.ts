/** `1 trace`, `3 traces`: English plurals of the regular nouns this tool counts. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
