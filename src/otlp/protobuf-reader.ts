import { FIXED32, FIXED64, LENGTH, VARINT } from './protobuf-writer.ts';

/**
 * Protobuf's wire primitives read from one buffer in place, each bounded by the end of the message
 * being read. They refuse what protobufjs's reader refuses (the decoder this one replaced, whose
 * answers the relay's clients and the test fakes of MLflow were built against): a varint past ten
 * bytes, a tag past five or a length past 2^31, a field number 0, wire types 4, 6 and 7 outside a
 * group, anything running past its message's end, and messages or groups nested more than 100 deep
 * (Python's protobuf stops there too).
 */

export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
}

const START_GROUP = 3;
const END_GROUP = 4;

export const MAX_NESTING = 100;

const TWO_32 = 4_294_967_296;

function truncated(at: number): never {
  throw new ProtobufDecodeError(`truncated message at byte ${at}`);
}

export function nestedTooDeep(): never {
  throw new ProtobufDecodeError(`messages nest deeper than ${MAX_NESTING} levels`);
}

/** The signed 64-bit integer of a varint64's two halves. */
export function int64(low: number, high: number): bigint {
  const signedHigh = high | 0;
  // Exact as a double below 2^53 in magnitude: one BigInt made instead of three.
  if (signedHigh >= -0x200000 && signedHigh < 0x200000) return BigInt(signedHigh * TWO_32 + low);
  return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low));
}

export class ProtobufReader {
  readonly buf: Buffer;
  readonly view: DataView;
  pos = 0;
  /** The two halves of the last varint64 read. */
  low = 0;
  high = 0;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** A tag below 2^32 (up to five bytes). */
  tag(end: number): number {
    const start = this.pos;
    const tag = this.varint32(end);
    if (this.pos - start > 4 && (this.pos - start > 5 || this.buf[start + 4]! > 15)) {
      throw new ProtobufDecodeError(`invalid tag at byte ${start}`);
    }
    return tag;
  }

  /** A varint's low 32 bits, unsigned (`| 0` makes an int32 of it). */
  varint32(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= end) truncated(pos);
    let byte = buf[pos++]!;
    if (byte < 128) {
      this.pos = pos;
      return byte;
    }
    let value = byte & 127;
    for (let shift = 7; shift < 35; shift += 7) {
      if (pos >= end) truncated(pos);
      byte = buf[pos++]!;
      value |= (byte & 127) << shift;
      if (byte < 128) {
        this.pos = pos;
        return value >>> 0;
      }
    }
    this.pos = pos;
    this.#rest(end);
    return value >>> 0;
  }

  /** A 64-bit varint into `low` and `high`. */
  varint64(end: number): void {
    const buf = this.buf;
    let pos = this.pos;
    let low = 0;
    let high = 0;
    let byte = 128;
    for (let shift = 0; shift < 28 && byte >= 128; shift += 7) {
      if (pos >= end) truncated(pos);
      byte = buf[pos++]!;
      low |= (byte & 127) << shift;
    }
    if (byte >= 128) {
      if (pos >= end) truncated(pos);
      byte = buf[pos++]!;
      low |= (byte & 127) << 28;
      high = (byte & 127) >> 4;
      for (let shift = 3; shift < 35 && byte >= 128; shift += 7) {
        if (pos >= end) truncated(pos);
        byte = buf[pos++]!;
        high |= (byte & 127) << shift;
      }
      if (byte >= 128) throw new ProtobufDecodeError(`varint longer than 10 bytes at byte ${pos - 10}`);
    }
    this.pos = pos;
    this.low = low >>> 0;
    this.high = high >>> 0;
  }

  /** A bool varint: true when any of its bits is set. */
  bool(end: number): boolean {
    const buf = this.buf;
    let pos = this.pos;
    let bits = 0;
    for (let count = 0; count < 10; count++) {
      if (pos >= end) truncated(pos);
      const byte = buf[pos++]!;
      bits |= byte & 127;
      if (byte < 128) {
        this.pos = pos;
        return bits !== 0;
      }
    }
    throw new ProtobufDecodeError(`varint longer than 10 bytes at byte ${pos - 10}`);
  }

  /** Past the fifth byte of a varint: up to five more, the low 32 bits being read already. */
  #rest(end: number): void {
    const buf = this.buf;
    let pos = this.pos;
    for (let count = 0; count < 5; count++) {
      if (pos >= end) truncated(pos);
      if (buf[pos++]! < 128) {
        this.pos = pos;
        return;
      }
    }
    throw new ProtobufDecodeError(`varint longer than 10 bytes at byte ${pos - 10}`);
  }

  /** A length-delimited field's length (below 2^31, up to five bytes), checked against `end`; returns where its content ends. */
  length(end: number): number {
    const start = this.pos;
    const length = this.varint32(end);
    if (this.pos - start > 4 && (this.pos - start > 5 || this.buf[start + 4]! > 7)) {
      throw new ProtobufDecodeError(`invalid length at byte ${start}`);
    }
    const contentEnd = this.pos + length;
    if (contentEnd > end) truncated(end);
    return contentEnd;
  }

  /** Moves past a length-delimited field's content, checked against `end`; returns where it started (`pos` is where it ends). */
  skipContent(end: number): number {
    const contentEnd = this.length(end);
    const start = this.pos;
    this.pos = contentEnd;
    return start;
  }

  /** Moves past `bytes` bytes; returns where they started. */
  skip(bytes: number, end: number): number {
    const at = this.pos;
    if (at + bytes > end) truncated(end);
    this.pos = at + bytes;
    return at;
  }

  fixed32(end: number): number {
    return this.view.getUint32(this.skip(4, end), true);
  }

  fixed64(end: number): bigint {
    return this.view.getBigUint64(this.skip(8, end), true);
  }

  double(end: number): number {
    return this.view.getFloat64(this.skip(8, end), true);
  }

  /** Skips the field of `tag` as protobufjs skips a field it does not know, `depth` being its message's. */
  skipField(tag: number, depth: number, end: number): void {
    const field = tag >>> 3;
    if (depth > MAX_NESTING) nestedTooDeep();
    if (field === 0) throw new ProtobufDecodeError(`field number 0 at byte ${this.pos - 1}`);
    switch (tag & 7) {
      case VARINT: {
        const buf = this.buf;
        let pos = this.pos;
        do {
          if (pos >= end) truncated(pos);
        } while (buf[pos++]! >= 128);
        this.pos = pos;
        return;
      }
      case FIXED64:
        this.skip(8, end);
        return;
      case LENGTH:
        this.pos = this.length(end);
        return;
      case START_GROUP:
        for (;;) {
          const inner = this.tag(end);
          if (inner >>> 3 === 0) throw new ProtobufDecodeError(`field number 0 at byte ${this.pos - 1}`);
          if ((inner & 7) === END_GROUP) {
            if (inner >>> 3 !== field) throw new ProtobufDecodeError(`group ${field} ended by a tag of field ${inner >>> 3}`);
            return;
          }
          this.skipField(inner, depth + 1, end);
        }
      case FIXED32:
        this.skip(4, end);
        return;
      default:
        throw new ProtobufDecodeError(`invalid wire type ${tag & 7} at byte ${this.pos - 1}`);
    }
  }

  /**
   * Reads each field of `lengthTag` (a length-delimited field's tag) from `pos` to `end`, other
   * fields skipped as unknown ones of a message of `depth`: `read` starts at the field's content and
   * is told where it ends; the next field is looked for from there.
   */
  eachField(lengthTag: number, depth: number, end: number, read: (contentEnd: number) => void): void {
    for (let contentEnd = this.next(lengthTag, depth, end); contentEnd !== -1; contentEnd = this.next(lengthTag, depth, end)) {
      read(contentEnd);
      this.pos = contentEnd;
    }
  }

  /**
   * From `pos`, the next field of `lengthTag` (a length-delimited field's tag) before `end`, other
   * fields skipped as unknown ones of a message of `depth`: returns where its content ends, `pos` at
   * its start; -1 when there is none.
   */
  next(lengthTag: number, depth: number, end: number): number {
    while (this.pos < end) {
      const tag = this.tag(end);
      if (tag === lengthTag) return this.length(end);
      this.skipField(tag, depth, end);
    }
    return -1;
  }
}
