import type { ChalkInstance } from 'chalk';
import { describeTarget, parseTargetKey } from '../destination/target.ts';
import type { DeliveryInfo } from '../pipeline/store/stored-trace.ts';
import { formatLocalTime } from './trace-format.ts';
import { commandLine } from '../invocation.ts';

/** One line on where a stored trace stands: kept locally, waiting, delivered, or refused with the answer. */
export function describeDelivery(paint: ChalkInstance, delivery: DeliveryInfo): string {
  const tried = delivery.lastTryAt ? ` (last try ${formatLocalTime(delivery.lastTryAt)}, ${delivery.attempts} in all)` : '';
  const answer = delivery.lastAnswer ? `: ${delivery.lastAnswer}` : '';
  switch (delivery.state) {
    case 'local':
      return paint.dim(`kept locally (no destination was configured); \`${commandLine('traces push')}\` sends it`);
    case 'pending':
      return paint.yellow(`pending for ${place(delivery)}${tried}${answer}`);
    case 'delivered':
      return paint.green(`delivered to ${place(delivery)}${delivery.lastTryAt ? ` at ${formatLocalTime(delivery.lastTryAt)}` : ''}`);
    case 'dead':
      return paint.red(`refused by ${place(delivery)}${tried}${answer}; after fixing the cause: \`${commandLine('traces push --dead')}\``);
  }
}

/** Where a trace waits or went, for people. */
function place(delivery: DeliveryInfo): string {
  const target = delivery.destination === undefined ? undefined : parseTargetKey(delivery.destination);
  return target ? describeTarget(target) : (delivery.destination ?? 'its destination');
}

/** Stable keys for scripts: every key present, null when there is no value; the destination as its fields. */
export function deliveryJson(delivery: DeliveryInfo) {
  return {
    state: delivery.state,
    destination:
      delivery.destination === undefined
        ? null
        : parseTargetKey(delivery.destination)
          ? (JSON.parse(delivery.destination) as unknown)
          : delivery.destination,
    origin: delivery.origin,
    attempts: delivery.attempts,
    lastTryAt: delivery.lastTryAt ?? null,
    lastStatus: delivery.lastStatus ?? null,
    lastAnswer: delivery.lastAnswer ?? null,
  };
}
