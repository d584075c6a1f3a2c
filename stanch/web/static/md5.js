// MD5 (RFC 1321) in plain JavaScript, fed in pieces so a large file never has to be hashed in one call.
//
// WebCrypto has no MD5; Stanch uses it only as an exact-copy signal because partners' hash lists carry it.

// Per-round left-rotation amounts and the sine-derived constants of RFC 1321, section 3.4.
const SHIFTS = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];
const SINES = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32));

/** Incremental MD5: `update(bytes)` any number of times, then `hex()` once. */
export class Md5 {
  constructor() {
    this.state = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476);
    this.block = new Uint8Array(64);
    this.blockWords = new Int32Array(16);
    this.filled = 0;
    this.length = 0;
  }

  /** Add the next piece of the message (a Uint8Array). */
  update(bytes) {
    this.length += bytes.length;
    let offset = 0;
    if (this.filled > 0) {
      offset = Math.min(64 - this.filled, bytes.length);
      this.block.set(bytes.subarray(0, offset), this.filled);
      this.filled += offset;
      if (this.filled < 64) return this;
      this.compress(this.block, 0);
      this.filled = 0;
    }
    for (; offset + 64 <= bytes.length; offset += 64) this.compress(bytes, offset);
    this.block.set(bytes.subarray(offset), 0);
    this.filled = bytes.length - offset;
    return this;
  }

  /** Finish: pad, append the bit length, and return the digest as 32 lowercase hex digits. */
  hex() {
    const bitLength = this.length * 8;
    const padding = new Uint8Array(((this.filled < 56 ? 56 : 120) - this.filled) + 8);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    view.setUint32(padding.length - 8, bitLength >>> 0, true);
    view.setUint32(padding.length - 4, Math.floor(bitLength / 2 ** 32), true);
    this.update(padding);
    let hex = '';
    for (const word of this.state) {
      for (let shift = 0; shift < 32; shift += 8) hex += ((word >>> shift) & 0xff).toString(16).padStart(2, '0');
    }
    return hex;
  }

  // One 64-byte block of `bytes` starting at `offset` (little-endian words).
  compress(bytes, offset) {
    const x = this.blockWords;
    for (let i = 0, p = offset; i < 16; i++, p += 4) {
      x[i] = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
    }
    let [a, b, c, d] = this.state;
    for (let i = 0; i < 64; i++) {
      let f;
      let g;
      if (i < 16) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (i < 32) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (i < 48) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + SINES[i] + x[g]) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << SHIFTS[i]) | (sum >>> (32 - SHIFTS[i])))) | 0;
    }
    const s = this.state;
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d;
  }
}
