/**
 * Protobuf's wire primitives written into one growing scratch buffer, a nested message's length given
 * room first and moved up once its size is known, so that a message is written in a single pass.
 * A class, not module variables: V8 reads and writes fields faster than module-level `let`s.
 */

export const VARINT = 0;
export const FIXED64 = 1;
export const LENGTH = 2;
export const FIXED32 = 5;

const TWO_32 = 4_294_967_296;
/**
 * Grown past this by one large message, the scratch buffer is not kept for the next. A batch of 512
 * spans with prompts runs to a few megabytes: growing to that again for every batch cost more than
 * encoding it.
 */
const KEPT_SCRATCH_BYTES = 1 << 22;
const INITIAL_SCRATCH_BYTES = 1 << 16;
/** Finished messages up to SLAB_MOST bytes are carved from slabs of SLAB_BYTES. */
const SLAB_BYTES = 1 << 14;
const SLAB_MOST = 1 << 12;
/** Shorter texts are copied in JavaScript when they are ASCII: cheaper than a call into the native UTF-8 writer. */
const SHORT_TEXT = 64;
/** Longer texts are measured before they are written. */
const LONG_TEXT = 16_384;

/** The hex digit of each ASCII code, as otlp-transformer's hexToBinary reads one (anything else included). */
const HEX_DIGITS = Int8Array.from({ length: 128 }, (_, code) => hexDigit(code));

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return code - 55;
}

export function varintSize(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  if (value < 268_435_456) return 4;
  return 5;
}

export class ProtobufWriter {
  // A Buffer for its native UTF-8 writer.
  buf: Buffer = Buffer.allocUnsafeSlow(INITIAL_SCRATCH_BYTES);
  view: DataView = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  pos = 0;
  #slab = new Uint8Array(0);
  #slabUsed = 0;

  ensure(bytes: number): void {
    if (this.pos + bytes > this.buf.length) this.#grow(this.pos + bytes);
  }

  #grow(needed: number): void {
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafeSlow(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.#use(grown);
  }

  #use(buf: Buffer): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  /** A varint below 2^32 where room for it was made already. */
  putUint32(value: number): void {
    const buf = this.buf;
    let pos = this.pos;
    let v = value >>> 0;
    while (v > 127) {
      buf[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  uint32(value: number): void {
    this.ensure(5);
    this.putUint32(value);
  }

  /** A varint of any integer a double holds exactly; negatives in ten bytes of two's complement. */
  varint(value: number): void {
    if (value >= 0 && value <= 4_294_967_295) {
      this.uint32(value);
      return;
    }
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = (value / TWO_32) >>> 0;
    } else {
      const abs = Math.abs(value);
      low = ~(abs >>> 0) >>> 0;
      high = ~((abs / TWO_32) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    this.ensure(10);
    const buf = this.buf;
    while (high > 0 || low > 127) {
      buf[this.pos++] = (low & 127) | 128;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low & 127;
  }

  tag(field: number, wireType: number): void {
    this.uint32((field << 3) | wireType);
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Nanoseconds since the epoch from an HrTime's parts, exactly as the transformer sums them (they exceed 2^53). */
  hrTime(seconds: number, nanos: number): void {
    const lowSecondsNanos = (seconds & 0xffff) * 1e9;
    const highSecondsNanos = ((seconds / 65_536) >>> 0) * 1e9;
    const low = (lowSecondsNanos >>> 0) + (((highSecondsNanos & 0xffff) * 65_536) >>> 0) + nanos;
    const high = Math.floor(lowSecondsNanos / TWO_32) + ((highSecondsNanos / 65_536) >>> 0) + Math.floor(low / TWO_32);
    this.ensure(8);
    this.view.setUint32(this.pos, low >>> 0, true);
    this.view.setUint32(this.pos + 4, high >>> 0, true);
    this.pos += 8;
  }

  string(text: string): void {
    if (text.length < SHORT_TEXT && this.#ascii(text)) return;
    if (text.length > LONG_TEXT) {
      // Measured first rather than given room for three bytes a character.
      const size = Buffer.byteLength(text);
      this.uint32(size);
      this.ensure(size);
      this.pos += this.buf.write(text, this.pos);
      return;
    }
    // Room for the longest UTF-8 the text can take; the length's varint moved up once the size is known.
    const most = text.length * 3;
    const room = varintSize(most);
    this.ensure(room + most);
    const at = this.pos;
    const written = this.buf.write(text, at + room);
    const size = varintSize(written);
    if (size < room) this.buf.copyWithin(at + size, at + room, at + room + written);
    this.putUint32(written);
    this.pos += written;
  }

  /** Writes a short text that is all ASCII, with its length; false, having written nothing, when it is not. */
  #ascii(text: string): boolean {
    const length = text.length;
    this.ensure(1 + length);
    const buf = this.buf;
    const at = this.pos + 1;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code > 127) return false;
      buf[at + i] = code;
    }
    buf[this.pos] = length;
    this.pos = at + length;
    return true;
  }

  bytes(bytes: Uint8Array): void {
    this.uint32(bytes.length);
    this.raw(bytes);
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Bytes from their hex text, as otlp-transformer's hexToBinary reads it. */
  hex(text: string): void {
    const length = text.length >>> 1;
    this.uint32(length);
    this.ensure(length);
    const buf = this.buf;
    let pos = this.pos;
    for (let i = 0; i < 2 * length; i += 2) {
      const high = text.charCodeAt(i);
      const low = text.charCodeAt(i + 1);
      buf[pos++] = ((high < 128 ? HEX_DIGITS[high]! : high - 55) << 4) | (low < 128 ? HEX_DIGITS[low]! : low - 55);
    }
    this.pos = pos;
  }

  /** Opens a length-delimited message: room for its length, returned as where it goes. */
  open(room: number): number {
    this.ensure(room);
    const at = this.pos;
    this.pos += room;
    return at;
  }

  /** Writes the length of the message opened at `at`, moving its bytes when the room was not right. */
  close(at: number, room: number): void {
    const length = this.pos - at - room;
    const size = varintSize(length);
    if (size !== room) {
      this.ensure(size - room);
      this.buf.copyWithin(at + size, at + room, this.pos);
      this.pos += size - room;
    }
    const end = this.pos;
    this.pos = at;
    this.putUint32(length);
    this.pos = end;
  }

  /**
   * The bytes written since `from`, as a copy of their own (not a view of a shared buffer, which
   * postMessage would copy whole), in memory that is not zeroed first: a batch's request runs to megabytes.
   */
  copy(from: number): Uint8Array {
    const length = this.pos - from;
    const bytes = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    this.buf.copy(bytes, 0, from, this.pos);
    return bytes;
  }

  /**
   * Ends a message: its bytes copied out, and the scratch buffer let go when one large message grew it.
   * A small message is a view of a shared slab: an ArrayBuffer of its own costs more than encoding a
   * span. Slabs are small, so that a message kept holds little else: each is sent or handed to the
   * store at once, and postMessage copies each slab a batch refers to once, whatever its messages.
   */
  finish(): Uint8Array {
    const length = this.pos;
    let out: Uint8Array;
    if (length > SLAB_MOST) out = this.copy(0);
    else {
      if (this.#slabUsed + length > this.#slab.length) {
        this.#slab = new Uint8Array(SLAB_BYTES);
        this.#slabUsed = 0;
      }
      out = this.#slab.subarray(this.#slabUsed, this.#slabUsed + length);
      this.buf.copy(out, 0, 0, length);
      this.#slabUsed += length;
    }
    this.pos = 0;
    if (this.buf.length > KEPT_SCRATCH_BYTES) this.#use(Buffer.allocUnsafeSlow(INITIAL_SCRATCH_BYTES));
    return out;
  }
}
