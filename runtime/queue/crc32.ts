/**
 * CRC-32 (IEEE 802.3, the zlib/gzip polynomial) over byte ranges, continuing from a previous
 * value: a portable table-driven implementation, which a host replaces with a native one when
 * it has one (`installCrc32`: the Node log store installs node:zlib's `crc32`, which runs at
 * memory speed, several times the table loop). The core imports no node:* module itself.
 */

type Crc32Function = (data: Uint8Array, initial?: number) => number;

/** The checksum of `data`, continuing from `initial` (0 to start): the installed native one, else the table loop. */
export let crc32: Crc32Function = computeCrc32Slice16;

/** Replaces the table loop with a host's native CRC-32 (same polynomial and continuation). */
export function installCrc32(native: Crc32Function): void {
  crc32 = native;
}

/**
 * The checksum of a small range (a 32-byte frame header): below this size the table loop beats
 * the native call's fixed cost (measured on Node 20: ~50 ns against ~95 ns for 32 bytes).
 */
export function crc32Small(data: Uint8Array, initial = 0): number {
  return data.length <= 64 ? computeCrc32Slice16Range(data, 0, data.length, initial) : crc32(data, initial);
}

/** The CRC-32 polynomial, reflected (x^0 in the top bit). */
const POLYNOMIAL = 0xedb88320;

// Slice-by-16: sixteen 256-entry tables (16 KiB) so the loop consumes sixteen bytes per step.
// Measured in a Chromium 150 worker on 433 KB (a transaction of 1000 WeatherSensor documents):
// 0.26 ms, against 0.5–1.1 ms for slice-by-8 (the best of 40 rounds, a loaded 2-core machine).
/** The sixteen slice tables back to back (table t, entry n at t * 256 + n): this loop's, and the WebAssembly module's (wasm-crc32.ts). */
export function crc32SliceTables(): Int32Array {
  const tables = new Int32Array(16 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1;
    tables[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[n]!;
    for (let t = 1; t < 16; t++) {
      c = tables[c & 0xff]! ^ (c >>> 8);
      tables[t * 256 + n] = c;
    }
  }
  return tables;
}

const FLAT_TABLES = crc32SliceTables();
// Sixteen arrays of their own (slices, not views of one buffer: the loop ran ~2% slower on views).
const TABLES = Array.from({ length: 16 }, (_, t) => FLAT_TABLES.slice(t * 256, (t + 1) * 256));

/** The table-driven CRC-32 (slice-by-16), used where the host installed no native one. */
export function computeCrc32Slice16(data: Uint8Array, initial = 0): number {
  return computeCrc32Slice16Range(data, 0, data.length, initial);
}

/** The table-driven CRC-32 of bytes `[start, end)` of `data`: no view to create for a small range. */
export function computeCrc32Slice16Range(data: Uint8Array, start: number, end: number, initial = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15] = TABLES as Sixteen<Int32Array>;
  let crc = ~initial;
  let i = start;
  const n = end;
  for (; i + 16 <= n; i += 16) {
    const a = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc =
      t15[a & 0xff]! ^
      t14[(a >>> 8) & 0xff]! ^
      t13[(a >>> 16) & 0xff]! ^
      t12[a >>> 24]! ^
      t11[data[i + 4]!]! ^
      t10[data[i + 5]!]! ^
      t9[data[i + 6]!]! ^
      t8[data[i + 7]!]! ^
      t7[data[i + 8]!]! ^
      t6[data[i + 9]!]! ^
      t5[data[i + 10]!]! ^
      t4[data[i + 11]!]! ^
      t3[data[i + 12]!]! ^
      t2[data[i + 13]!]! ^
      t1[data[i + 14]!]! ^
      t0[data[i + 15]!]!;
  }
  for (; i < n; i++) crc = t0[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

type Sixteen<T> = [T, T, T, T, T, T, T, T, T, T, T, T, T, T, T, T];

// ---- combining two checksums ----
//
// The CRC-32 of `a` followed by `b` from the CRC-32s of each and the length of `b` (zlib's
// crc32_combine): the browser's page checksums the documents it encoded while the queue worker
// checksums only the frame's table section in front of them (runtime/browser/browser-realm.ts).
// Arithmetic on polynomials over GF(2), reflected as the CRC is: multiplying crc(a) by x^(8·|b|)
// modulo the CRC polynomial shifts it past b's bytes, and XOR adds crc(b).

/** a(x)·b(x) modulo the CRC polynomial (both reflected, x^0 in the top bit). */
function multiplyModP(a: number, b: number): number {
  let m = 0x80000000;
  let product = 0;
  for (;;) {
    if (a & m) {
      product ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLYNOMIAL : b >>> 1;
  }
  return product >>> 0;
}

/** X_POWERS[k] = x^(2^k) modulo the polynomial, for k < 32 (reflected). */
const X_POWERS = (() => {
  const powers = new Uint32Array(32);
  let p = 0x40000000; // x^1
  powers[0] = p;
  for (let k = 1; k < 32; k++) powers[k] = p = multiplyModP(p, p);
  return powers;
})();

/** x^(n·2^k) modulo the polynomial. */
function xPowerModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  while (n > 0) {
    if (n % 2 === 1) p = multiplyModP(X_POWERS[k & 31]!, p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/**
 * The CRC-32 of what `initial` is the CRC-32 of followed by `length` zero bytes, without reading
 * them: the register (`~initial`) times x^(8·length). The WebAssembly CRC (wasm-crc32.ts) turns a
 * long message into zeros followed by a short tail with the same checksum.
 */
export function crc32OfZeros(initial: number, length: number): number {
  return ~multiplyModP(xPowerModP(length, 3), ~initial >>> 0) >>> 0;
}

/** The CRC-32 of `a` followed by `b`, from `crc32(a)`, `crc32(b)` and `b`'s length in bytes. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multiplyModP(xPowerModP(lengthB, 3), crcA) ^ crcB) >>> 0;
}
