/**
 * How `run`'s preloaded instrumentation tells the tool of batches of spans it could keep nowhere (no
 * spool directory had room): it cannot print in the program. Each process and thread of the program
 * is a sender, named `<pid>.<thread>`, and tells how many batches it lost so far; the tool keeps the
 * largest count per sender, however often and by whichever way it hears it.
 */

/** On each request once a batch was lost: `<sender> <batches lost so far>`. */
export const LOST_BATCHES_HEADER = 'x-otel-mlflow-lost-batches';

/**
 * The same, for when no request follows to carry it (the program is exiting, or sends nothing more):
 * an empty file in a spool directory whose name is the message. A disk too full for a batch still
 * takes a name as a rule, which needs no data block.
 */
export function lossMarkName(sender: string, lostBatches: number): string {
  return `${sender}-${lostBatches}.lost`;
}

const LOSS_MARK = /^(\d{1,10}\.\d{1,10})-(\d{1,9})\.lost$/;

export function readLossMark(name: string): { sender: string; lostBatches: number } | undefined {
  const match = LOSS_MARK.exec(name);
  return match ? { sender: match[1]!, lostBatches: Number(match[2]) } : undefined;
}

/** Keeps each sender's largest count: reports of the same losses come again, and by either way. */
export function noteLoss(lost: Map<string, number>, sender: string, lostBatches: number): void {
  lost.set(sender, Math.max(lost.get(sender) ?? 0, lostBatches));
}
