import type { ChalkInstance } from 'chalk';
import type { SpoolEnd } from '../pipeline/spool/spool.ts';
import { noteLoss } from '../preload/loss-report.ts';
import { plural } from '../util/plural.ts';
import { writeLine } from './output.ts';

/** What takes in spooled batches: the commands that take in what stopped runs left. */
export const TAKEN_IN_BY = '`otel-mlflow run`, `relay` or `traces push`';

/** Batches `run`'s programs could keep nowhere, as their requests told the receiver and their marks the spool, each sender once. */
export function lossesOf(told: ReadonlyMap<string, number>, spoolEnd: SpoolEnd): number {
  const lost = new Map(told);
  for (const [sender, batches] of spoolEnd.lost) noteLoss(lost, sender, batches);
  return [...lost.values()].reduce((sum, n) => sum + n, 0);
}

/** What the closing line does not say of the spool: spans lost, taken in, or waiting there, and for what. */
export function writeSpoolLines(
  out: NodeJS.WritableStream,
  paint: ChalkInstance,
  { left, leftIn, adopted, othersLeft, othersIn }: SpoolEnd,
  lostBatches: number,
): void {
  const batches = (n: number) => `${plural(n, 'batch', 'batches')} of spans`;
  if (lostBatches > 0) {
    writeLine(
      out,
      paint.red(
        `${batches(lostBatches)} that could be kept nowhere (no spool directory had room) ${lostBatches === 1 ? 'was' : 'were'} lost`,
      ),
    );
  }
  if (adopted > 0) writeLine(out, `${batches(adopted)} left by runs stopped before their end ${adopted === 1 ? 'was' : 'were'} taken in`);
  if (left > 0) {
    writeLine(
      out,
      paint.yellow(
        `${batches(left)} the store did not take ${left === 1 ? 'is' : 'are'} kept in ${leftIn.join(' and ')}: the next ${TAKEN_IN_BY} with these settings takes ${left === 1 ? 'it' : 'them'} in`,
      ),
    );
  }
  if (othersLeft > 0) {
    writeLine(
      out,
      paint.yellow(
        `${batches(othersLeft)} left by runs with other settings (another destination) wait in ${othersIn.join(' and ')}: the next run with those settings takes them in`,
      ),
    );
  }
}
