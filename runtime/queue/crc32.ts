/**
 * CRC-32 (IEEE 802.3, the zlib/gzip polynomial) over byte ranges, continuing from a previous
 * value. node:zlib's native `crc32` (Node ≥ 20.15 / 22.2) is used when present: it runs at
 * memory speed, several times the table-driven fallback below.
 */
import * as zlib from "node:zlib";

type Crc32Function = (data: Uint8Array, initial?: number) => number;

const nativeCrc32 = (zlib as unknown as { crc32?: Crc32Function }).crc32;

/** The checksum of `data`, continuing from `initial` (0 to start). */
export const crc32: Crc32Function = typeof nativeCrc32 === "function" ? nativeCrc32 : computeCrc32Slice8;

/**
 * The checksum of a small range (a 32-byte frame header): below this size the table loop beats
 * the native call's fixed cost (measured on Node 20: ~50 ns against ~95 ns for 32 bytes).
 */
export function crc32Small(data: Uint8Array, initial = 0): number {
  return data.length <= 64 ? computeCrc32Slice8Range(data, 0, data.length, initial) : crc32(data, initial);
}

const TABLES = buildTables();

// Slice-by-8: eight 256-entry tables so the loop consumes eight bytes per step.
function buildTables(): Int32Array[] {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  const t0 = tables[0]!;
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t0[n]!;
    for (let k = 1; k < 8; k++) {
      c = t0[c & 0xff]! ^ (c >>> 8);
      tables[k]![n] = c;
    }
  }
  return tables;
}

/** The table-driven CRC-32 (slice-by-8), used where node:zlib has no `crc32`. */
export function computeCrc32Slice8(data: Uint8Array, initial = 0): number {
  return computeCrc32Slice8Range(data, 0, data.length, initial);
}

/** The table-driven CRC-32 of bytes `[start, end)` of `data`: no view to create for a small range. */
export function computeCrc32Slice8Range(data: Uint8Array, start: number, end: number, initial = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  let crc = ~initial;
  let i = start;
  const n = end;
  for (; i + 8 <= n; i += 8) {
    const a = crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24));
    crc =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
  }
  for (; i < n; i++) crc = t0[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
