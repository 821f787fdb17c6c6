import type { ChalkInstance } from 'chalk';
import type { DeliveryInfo } from '../pipeline/store/stored-trace.ts';
import { formatLocalTime } from './trace-format.ts';
import { commandLine } from '../util/invocation.ts';

/** One line on where a stored trace stands: kept locally, waiting, delivered, or refused with the answer. */
export function describeDelivery(paint: ChalkInstance, delivery: DeliveryInfo): string {
  const tried = delivery.lastTryAt ? ` (last try ${formatLocalTime(delivery.lastTryAt)}, ${delivery.attempts} in all)` : '';
  const answer = delivery.lastAnswer ? `: ${delivery.lastAnswer}` : '';
  switch (delivery.state) {
    case 'local':
      return paint.dim(`kept locally (no destination was configured); \`${commandLine('traces push')}\` sends it`);
    case 'pending':
      return paint.yellow(`pending for ${delivery.destination}${tried}${answer}`);
    case 'delivered':
      return paint.green(`delivered to ${delivery.destination}${delivery.lastTryAt ? ` at ${formatLocalTime(delivery.lastTryAt)}` : ''}`);
    case 'dead':
      return paint.red(`refused by ${delivery.destination}${tried}${answer}; after fixing the cause: \`${commandLine('traces push --dead')}\``);
  }
}

/** Stable keys for scripts: every key present, null when there is no value. */
export function deliveryJson(delivery: DeliveryInfo) {
  return {
    state: delivery.state,
    destination: delivery.destination ?? null,
    origin: delivery.origin,
    attempts: delivery.attempts,
    lastTryAt: delivery.lastTryAt ?? null,
    lastStatus: delivery.lastStatus ?? null,
    lastAnswer: delivery.lastAnswer ?? null,
  };
}
