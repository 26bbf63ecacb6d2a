// SHA-256 (FIPS 180-4) in plain JavaScript, for the subject map's short fixed-size inputs (a 41-byte leaf,
// a 65-byte node: one or two compression blocks). Node's crypto.hash costs ~1–2 µs a call in per-call
// overhead and returns a Buffer with its own backing store, which the garbage collector then has to free;
// the map hashes ~11 nodes per appended entry (docs/performance.md, issue #17), and the profile of a batch
// update showed 21 % in crypto.hash and 28 % in garbage collection. This writes the digest straight into a
// fresh 32-byte Uint8Array (on V8's heap) and allocates nothing else. Checked against node:crypto for every
// input length 0–300 in test/ledger/sha256.test.ts; results are byte-identical, only the cost differs.

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

// Scratch state, reused by every call: hashing is synchronous and each thread has its own module instance.
const W = new Int32Array(64);
const H = new Int32Array(8);
let block = new Uint8Array(128);

function compress(buf: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + 4 * i;
    W[i] = (buf[j]! << 24) | (buf[j + 1]! << 16) | (buf[j + 2]! << 8) | buf[j + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!;
    const y = W[i - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = H[0]!, b = H[1]!, c = H[2]!, d = H[3]!, e = H[4]!, f = H[5]!, g = H[6]!, h = H[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0]! + a) | 0;
  H[1] = (H[1]! + b) | 0;
  H[2] = (H[2]! + c) | 0;
  H[3] = (H[3]! + d) | 0;
  H[4] = (H[4]! + e) | 0;
  H[5] = (H[5]! + f) | 0;
  H[6] = (H[6]! + g) | 0;
  H[7] = (H[7]! + h) | 0;
}

function digest(data: Uint8Array, length: number): void {
  // Padding: 0x80, zeros, then the length in bits as a 64-bit big-endian integer, to a multiple of 64 bytes.
  const blocks = Math.floor((length + 8) / 64) + 1;
  const size = blocks * 64;
  if (block.length < size) block = new Uint8Array(size);
  block.set(length === data.length ? data : data.subarray(0, length));
  block.fill(0, length, size);
  block[length] = 0x80;
  const bits = length * 8;
  const high = Math.floor(bits / 2 ** 32);
  block[size - 8] = high >>> 24;
  block[size - 7] = high >>> 16;
  block[size - 6] = high >>> 8;
  block[size - 5] = high;
  block[size - 4] = bits >>> 24;
  block[size - 3] = bits >>> 16;
  block[size - 2] = bits >>> 8;
  block[size - 1] = bits;
  H.set(IV);
  for (let i = 0; i < blocks; i++) compress(block, 64 * i);
}

/** SHA-256 of `data[0, length)`: a new 32-byte array. */
export function sha256Js(data: Uint8Array, length = data.length): Uint8Array {
  digest(data, length);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const v = H[i]!;
    out[4 * i] = v >>> 24;
    out[4 * i + 1] = v >>> 16;
    out[4 * i + 2] = v >>> 8;
    out[4 * i + 3] = v;
  }
  return out;
}

const b = (w: number, shift: number) => (w >>> shift) & 0xff;

/**
 * SHA-256 of `data[0, length)` as a 32-character string, one character per byte (0–255). The subject
 * map's tree keeps its node hashes this way: a string is one small object for the garbage collector,
 * where a 32-byte Uint8Array is three (and an array-buffer record it must sweep).
 */
export function sha256JsBinary(data: Uint8Array, length = data.length): string {
  digest(data, length);
  const h0 = H[0]!, h1 = H[1]!, h2 = H[2]!, h3 = H[3]!, h4 = H[4]!, h5 = H[5]!, h6 = H[6]!, h7 = H[7]!;
  return String.fromCharCode(
    b(h0, 24), b(h0, 16), b(h0, 8), b(h0, 0), b(h1, 24), b(h1, 16), b(h1, 8), b(h1, 0),
    b(h2, 24), b(h2, 16), b(h2, 8), b(h2, 0), b(h3, 24), b(h3, 16), b(h3, 8), b(h3, 0),
    b(h4, 24), b(h4, 16), b(h4, 8), b(h4, 0), b(h5, 24), b(h5, 16), b(h5, 8), b(h5, 0),
    b(h6, 24), b(h6, 16), b(h6, 8), b(h6, 0), b(h7, 24), b(h7, 16), b(h7, 8), b(h7, 0),
  );
}
