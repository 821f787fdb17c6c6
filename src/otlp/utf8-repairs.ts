import { plural } from '../util/plural.ts';

/**
 * Strings of one export request that were not valid UTF-8 and were decoded with U+FFFD in place of
 * their bad bytes. One such value (a prompt cut in the middle of a character, say) must not cost the
 * client every span of its batch: it is kept, repaired, and told back as a partial-success warning.
 */
export class Utf8Repairs {
  count = 0;
  readonly #places: string[] = [];
  #unlisted = 0;

  /** `place` says where, e.g. `span 'chat', attribute 'gen_ai.prompt'`. */
  add(place: string): void {
    this.count += 1;
    if (this.#places.includes(place)) return;
    if (this.#places.length < MAX_PLACES) this.#places.push(place);
    else this.#unlisted += 1;
  }

  /** The warning for the client; empty when nothing was repaired. */
  describe(): string {
    if (this.count === 0) return '';
    const [values, were] = this.count === 1 ? ['value was', 'was'] : ['values were', 'were'];
    const places = this.#unlisted === 0 ? this.#places : [...this.#places, `${plural(this.#unlisted, 'other place')}`];
    return `${this.count} string ${values} not valid UTF-8 and ${were} repaired with U+FFFD (${places.join('; ')})`;
  }
}

/** A few places let a person find the producer; a batch full of bad values must not make a huge answer. */
const MAX_PLACES = 3;
