import { diag, TraceFlags, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { constants } from 'node:os';
import { listeningUnseen, listenUnseen, stopListeningUnseen } from './unseen-signal-listeners.ts';

export interface SpanSender {
  /**
   * Sends a batch of finished spans; resolves once the receiver took them (or they were left on disk
   * for the tool), never rejects. `written` is called once the program's exit can no longer lose them:
   * the whole request is with the system, which delivers it even if the program exits, or the sender
   * holds the bytes for another try and keeps them at exit.
   */
  send(spans: ReadableSpan[], written: () => void): Promise<void>;
  /** The program is exiting now: these last spans, and whatever waits to be tried again, kept for the tool by synchronous writes. */
  keepAtExit(spans: ReadableSpan[]): void;
}

/**
 * Spans wait at most this long before they leave the program. The stock BatchSpanProcessor waits up
 * to 5 s, and a program killed with SIGKILL loses everything it holds (44 % of the traces it had
 * answered, measured); this keeps the loss to the last fraction of a second, while a request's
 * spans, which end within moments of each other, still travel together.
 */
const COALESCE_MS = 100;
/** Signals whose default action ends a program: Ctrl-C, a supervisor's stop, a closed terminal. */
const ENDING_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** A burst sends at once rather than growing one request without bound. */
const MAX_BATCH = 512;

/**
 * Hands finished spans to the tool's receiver promptly: on the first span to end, a send is
 * scheduled `COALESCE_MS` later with every span that ended meanwhile. The timer keeps the program
 * alive until then, so a program that ends by itself sends its last spans before it exits; one that
 * calls `process.exit()` (or dies of an exception) hands them over synchronously on its way out.
 */
export class PromptSpanProcessor implements SpanProcessor {
  readonly #sender: SpanSender;
  #queue: ReadableSpan[] = [];
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Promise<void>>();
  /** Batches not yet written out whole: a program exiting meanwhile keeps them for the tool. */
  readonly #unwritten = new Set<{ spans: ReadableSpan[] }>();

  constructor(sender: SpanSender) {
    this.#sender = sender;
    // A program that ends by itself does so when its event loop empties: the send keeps it alive until the receiver answered.
    process.on('beforeExit', () => {
      if (this.#queue.length > 0) this.#sendNow();
    });
    process.on('exit', () => this.keepUnsent());
    // A signal's default action ends the program without 'exit'. Where the program has no listener of
    // its own, the spans are kept first and the signal is raised again, so it still ends the program.
    for (const signal of ENDING_SIGNALS) {
      listenUnseen(signal, () => {
        if (this.#keepForDefaultAction(signal)) process.kill(process.pid, signal);
      });
    }
    // One the program raises at itself (a wrapper passing on its child's death, as foreground-child
    // does) would reach that listener only on a later turn of the event loop, which a program with
    // nothing left to do never takes: it would exit 0 instead. Its spans are kept as it raises it, and
    // the signal has its default action at once, as without the tool.
    const kill = process.kill;
    process.kill = (pid: number, signal?: string | number) => {
      const name = signalName(signal);
      if ((pid === process.pid || pid === 0) && name) this.#keepForDefaultAction(name);
      return kill.call(process, pid, signal);
    };
  }

  /** Whether the signal is about to end the program by its default action: if so, its spans are kept and the signal is let through. */
  #keepForDefaultAction(signal: NodeJS.Signals): boolean {
    if (!listeningUnseen(signal) || process.listeners(signal).length > 0) return false;
    this.keepUnsent();
    stopListeningUnseen(signal);
    return true;
  }

  /** Hands every span not yet written out to the sender's synchronous keeper, at the program's end. */
  keepUnsent(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const left = [...[...this.#unwritten].map((batch) => batch.spans), this.#queue].flat();
    this.#unwritten.clear();
    this.#queue = [];
    this.#sender.keepAtExit(left);
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    this.#queue.push(span);
    if (this.#queue.length >= MAX_BATCH) this.#sendNow();
    else this.#timer ??= setTimeout(() => this.#sendNow(), COALESCE_MS);
  }

  async forceFlush(): Promise<void> {
    if (this.#queue.length > 0) this.#sendNow();
    await Promise.all(this.#inFlight);
  }

  shutdown(): Promise<void> {
    return this.forceFlush();
  }

  #sendNow(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = { spans: this.#queue };
    this.#queue = [];
    this.#unwritten.add(batch);
    const sending = this.#sender
      .send(batch.spans, () => {
        // Written out: the spans are let go now, not when the receiver answers.
        this.#unwritten.delete(batch);
        batch.spans = [];
      })
      .catch((error: unknown) => diag.error('otel-mlflow: spans could not be sent', error));
    this.#inFlight.add(sending);
    void sending.finally(() => this.#inFlight.delete(sending));
  }
}

/** As process.kill() takes a signal: by name, by number, or SIGTERM when none is given. */
function signalName(signal: string | number | undefined): NodeJS.Signals | undefined {
  if (signal === undefined) return 'SIGTERM';
  if (typeof signal === 'string') return signal as NodeJS.Signals;
  return (Object.keys(constants.signals) as NodeJS.Signals[]).find((name) => constants.signals[name] === signal);
}
