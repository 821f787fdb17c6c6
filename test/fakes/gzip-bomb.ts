import { gzipSync } from 'node:zlib';

/** `size` zero bytes as gzip members of 1 MiB each, back to back (one gzip stream, as RFC 1952 allows): about a thousandth of the size. */
export function gzipOfZeros(size: number): Buffer {
  const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: Math.ceil(size / (1024 * 1024)) }, () => member));
}
