/**
 * CRC-32 (the zlib polynomial, as runtime/queue/crc32.ts) in a tiny WebAssembly module, for the
 * queue worker's frames and the page's checksum of the documents it lends (installWasmCrc32): the
 * browser has no native CRC-32, and the checksum was the queue worker's largest cost after the
 * flush, then the page's after its encoding. The module is emitted here, instruction by
 * instruction (slice-by-16 over tables at address 0, as the JS fallback's loop, and a clearing
 * pass for long messages, see CLEARING_OFFSETS), rather than shipped as an opaque blob; a page's
 * CSP may forbid compiling it (`wasm-unsafe-eval`), and then the JS fallback stays.
 *
 * Measured on 433 KB (a transaction of 1000 WeatherSensor documents), copying into the module's
 * memory included, in a worker of Debian's Chromium 156 (the best of 30 rounds of 20): the
 * clearing pass 0.05–0.06 ms, the table loop alone 0.19–0.20. In Node 20: 0.060 against 0.188
 * (node:zlib's crc32, which the Node queue uses: 0.083).
 */

import { crc32OfZeros, crc32SliceTables, installCrc32 } from "../queue/crc32.js";

type Crc32Function = (data: Uint8Array, initial?: number) => number;

/** The slices the module consumes per step: sixteen tables of 256 entries (16 KiB) at address 0. */
const SLICES = 16;
/** Where the bytes to checksum are copied, after the tables. */
const DATA_AT = SLICES * 1024;
/** The clearing pass's ring of 4096 lanes (64 KiB, see CLEARING_OFFSETS), in the last page. */
const RING_AT = 3 * 65536;
const RING_MASK = 0xffff;
/** The module's memory: four 64 KiB pages, so a chunk of up to 176 KiB per call. */
const MEMORY_PAGES = 4;
const CHUNK_BYTES = RING_AT - DATA_AT;

/**
 * Long messages are checksummed in two steps (the idea of Sam Russell's "Chorba" CRC): a sparse
 * multiple of the CRC polynomial, Q = x^(128·3006) + x^(128·2866) + x^(128·2215) + 1, is
 * divisible by it, so adding a shifted copy of Q to the message leaves its checksum as it was.
 * Taking the message 16 bytes (a lane of 128 polynomial terms) at a time from the front, adding
 * the lane's value times Q clears that lane and XORs the same value into the lanes 140, 791 and
 * 3006 further on. After every lane but the last 3006 is cleared, the message is zeros followed by
 * a 48 KB tail with the original's checksum: the zeros cost one multiplication (crc32OfZeros), the
 * tail the table loop. The clearing pass is three XORs of 16-byte SIMD values per lane, where the
 * table loop does sixteen lookups. Q was found by a search over x^(128·n) modulo the polynomial for
 * n up to 3006 (the smallest four-term multiple with lane-aligned terms); the tests check the
 * checksums against zlib's.
 */
export const CLEARING_OFFSETS = [140, 791, 3006] as const;
/** The tail: the last lanes, which no later lane clears. */
const TAIL_LANES = CLEARING_OFFSETS[2];
/** Below this the table loop alone is quicker (the tail alone is 48 KB). */
const CLEARING_MIN_BYTES = 128 * 1024;

// The few WebAssembly opcodes used (https://webassembly.github.io/spec/core/binary/instructions.html).
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_CONST = 0x41;
const I32_LOAD = 0x28;
const I32_LOAD8_U = 0x2d;
const I32_ADD = 0x6a;
const I32_AND = 0x71;
const I32_XOR = 0x73;
const I32_SHL = 0x74;
const I32_SHR_U = 0x76;
const I32_GE_U = 0x4f;
const BLOCK = 0x02;
const LOOP = 0x03;
const BR = 0x0c;
const BR_IF = 0x0d;
const END = 0x0b;
const EMPTY_BLOCK_TYPE = 0x40;
const I32 = 0x7f;
const I32_SUB = 0x6b;
const I32_LT_U = 0x49;
const SELECT = 0x1b;
const V128 = 0x7b;
// SIMD instructions: the 0xfd prefix, then the instruction's number.
const V128_LOAD = [0xfd, 0x00];
const V128_STORE = [0xfd, 0x0b];
const V128_CONST = [0xfd, 0x0c];
const V128_XOR = [0xfd, 0x51];

function unsignedLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function signedLeb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const vector = (items: number[][]): number[] => [...unsignedLeb(items.length), ...items.flat()];
const section = (id: number, bytes: number[]): number[] => [id, ...unsignedLeb(bytes.length), ...bytes];
const name = (s: string): number[] => [...unsignedLeb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** `crc(ptr, len, crc) → crc` over memory `[ptr, ptr + len)`, continuing from `crc` (0 to start): slice-by-16. */
function crcFunctionCode(): number[] {
  const [PTR, LEN, CRC, END_AT, END_SLICED, WORD] = [0, 1, 2, 3, 4, 5];
  const get = (local: number) => [LOCAL_GET, local];
  const set = (local: number) => [LOCAL_SET, local];
  const constant = (n: number) => [I32_CONST, ...signedLeb(n)];
  const load = (offset: number) => [I32_LOAD, 2, ...unsignedLeb(offset)];
  // Table t's entry for a byte: i32.load offset=t*1024 (byte << 2).
  const lookup = (table: number, byte: number[]) => [...byte, ...constant(2), I32_SHL, ...load(table * 1024)];
  const byteOf = (shift: number) =>
    shift === 0 ? [...get(WORD), ...constant(0xff), I32_AND] : shift === 24 ? [...get(WORD), ...constant(24), I32_SHR_U] : [...get(WORD), ...constant(shift), I32_SHR_U, ...constant(0xff), I32_AND];

  const body: number[] = [];
  body.push(...get(CRC), ...constant(-1), I32_XOR, ...set(CRC));
  body.push(...get(PTR), ...get(LEN), I32_ADD, ...set(END_AT));
  body.push(...get(PTR), ...get(LEN), ...constant(-SLICES), I32_AND, I32_ADD, ...set(END_SLICED));
  // block { loop { if ptr >= endSliced break; crc = xor of 16 lookups; ptr += 16; continue } }
  body.push(BLOCK, EMPTY_BLOCK_TYPE, LOOP, EMPTY_BLOCK_TYPE, ...get(PTR), ...get(END_SLICED), I32_GE_U, BR_IF, 1);
  for (let word = 0; word < SLICES / 4; word++) {
    // The first word is xored with the running crc; each word's four bytes use four tables, highest first.
    if (word === 0) body.push(...get(CRC), ...get(PTR), ...load(0), I32_XOR, ...set(WORD));
    else body.push(...get(PTR), ...load(4 * word), ...set(WORD));
    for (let b = 0; b < 4; b++) {
      body.push(...lookup(SLICES - 1 - 4 * word - b, byteOf(8 * b)));
      if (word > 0 || b > 0) body.push(I32_XOR);
    }
  }
  body.push(...set(CRC), ...get(PTR), ...constant(SLICES), I32_ADD, ...set(PTR), BR, 0, END, END);
  // The tail, a byte at a time: crc = T0[(crc ^ byte) & 0xff] ^ (crc >>> 8).
  body.push(BLOCK, EMPTY_BLOCK_TYPE, LOOP, EMPTY_BLOCK_TYPE, ...get(PTR), ...get(END_AT), I32_GE_U, BR_IF, 1);
  body.push(...get(CRC), ...get(PTR), I32_LOAD8_U, 0, 0, I32_XOR, ...constant(0xff), I32_AND, ...constant(2), I32_SHL, ...load(0));
  body.push(...get(CRC), ...constant(8), I32_SHR_U, I32_XOR, ...set(CRC));
  body.push(...get(PTR), ...constant(1), I32_ADD, ...set(PTR), BR, 0, END, END);
  body.push(...get(CRC), ...constant(-1), I32_XOR, END);
  return [...vector([[3, I32]]), ...body];
}

/**
 * `clear(ptr, lanes, first, head)`: the clearing pass (see CLEARING_OFFSETS) over `lanes` lanes at
 * `ptr`, the message's lanes `first` to `first + lanes - 1`. A lane before `head` is cleared: its
 * value (its bytes XOR what earlier lanes added to it) goes to the ring, where the lanes 140, 791
 * and 3006 further on read it. A lane from `head` on is the tail: its value is written back in
 * place, and the ring holds zero for it (the tail adds nothing further on). The ring is 4096
 * lanes, zero before the first call.
 */
function clearingFunctionCode(): number[] {
  const [PTR, LANES, LANE, HEAD, END_LANE, LIMIT, RING, VALUE] = [0, 1, 2, 3, 4, 5, 6, 7];
  const get = (local: number) => [LOCAL_GET, local];
  const set = (local: number) => [LOCAL_SET, local];
  const constant = (n: number) => [I32_CONST, ...signedLeb(n)];
  const memarg = (offset: number) => [4, ...unsignedLeb(offset)];
  // value = lane's bytes ^ ring[lane - 140] ^ ring[lane - 791] ^ ring[lane - 3006] (byte offsets mod 64 KiB).
  const laneValue: number[] = [...get(PTR), ...V128_LOAD, ...memarg(0)];
  for (const back of CLEARING_OFFSETS) laneValue.push(...get(RING), ...constant(16 * back), I32_SUB, ...constant(RING_MASK), I32_AND, ...V128_LOAD, ...memarg(RING_AT), ...V128_XOR);
  laneValue.push(...set(VALUE));
  const next = [...get(RING), ...constant(16), I32_ADD, ...constant(RING_MASK), I32_AND, ...set(RING)];
  next.push(...get(PTR), ...constant(16), I32_ADD, ...set(PTR), ...get(LANE), ...constant(1), I32_ADD, ...set(LANE));

  const body: number[] = [];
  body.push(...get(LANE), ...get(LANES), I32_ADD, ...set(END_LANE));
  body.push(...get(END_LANE), ...get(HEAD), ...get(END_LANE), ...get(HEAD), I32_LT_U, SELECT, ...set(LIMIT));
  body.push(...get(LANE), ...constant(4), I32_SHL, ...constant(RING_MASK), I32_AND, ...set(RING));
  // Lanes before the tail: cleared, their value kept in the ring.
  body.push(BLOCK, EMPTY_BLOCK_TYPE, LOOP, EMPTY_BLOCK_TYPE, ...get(LANE), ...get(LIMIT), I32_GE_U, BR_IF, 1);
  body.push(...laneValue, ...get(RING), ...get(VALUE), ...V128_STORE, ...memarg(RING_AT), ...next, BR, 0, END, END);
  // The tail's lanes: written back, zero in the ring.
  body.push(BLOCK, EMPTY_BLOCK_TYPE, LOOP, EMPTY_BLOCK_TYPE, ...get(LANE), ...get(END_LANE), I32_GE_U, BR_IF, 1);
  body.push(...laneValue, ...get(PTR), ...get(VALUE), ...V128_STORE, ...memarg(0));
  body.push(...get(RING), ...V128_CONST, ...new Array<number>(16).fill(0), ...V128_STORE, ...memarg(RING_AT), ...next, BR, 0, END, END);
  body.push(END);
  return [...vector([[3, I32], [1, V128]]), ...body];
}

/**
 * The module: `crc(ptr, len, crc) → crc`, with `simd` also `clear(ptr, lanes, first, head)`
 * (WebAssembly's 128-bit SIMD, which not every engine has), and its exported `memory`, whose first
 * 16 KiB the caller fills with the tables.
 */
export function crc32ModuleBytes(simd = true): Uint8Array<ArrayBuffer> {
  const types = [[0x60, 3, I32, I32, I32, 1, I32]];
  const functions = [[0]];
  const exports = [[...name("crc"), 0x00, 0], [...name("memory"), 0x02, 0]];
  const codes = [crcFunctionCode()];
  if (simd) {
    types.push([0x60, 4, I32, I32, I32, I32, 0]);
    functions.push([1]);
    exports.push([...name("clear"), 0x00, 1]);
    codes.push(clearingFunctionCode());
  }
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(3, vector(functions)),
    ...section(5, vector([[0x00, ...unsignedLeb(MEMORY_PAGES)]])),
    ...section(7, vector(exports)),
    ...section(10, vector(codes.map((code) => [...unsignedLeb(code.length), ...code]))),
  ]);
}

interface WasmExports {
  crc: (ptr: number, len: number, crc: number) => number;
  clear?: (ptr: number, lanes: number, first: number, head: number) => void;
  memory: { buffer: ArrayBuffer };
}

interface WasmGlobals {
  WebAssembly?: {
    Module: new (bytes: Uint8Array) => object;
    Instance: new (module: object) => { exports: WasmExports };
  };
}

/** The module's exports, with SIMD where the engine compiles it, else without; null where WebAssembly is missing or refused. */
function instantiate(): WasmExports | null {
  const wasm = (globalThis as unknown as WasmGlobals).WebAssembly;
  if (wasm === undefined) return null;
  for (const simd of [true, false]) {
    try {
      return new wasm.Instance(new wasm.Module(crc32ModuleBytes(simd))).exports;
    } catch {
      // No SIMD (an older engine): try without; refused altogether (a CSP): null.
    }
  }
  return null;
}

/** The WebAssembly CRC-32, and whether it clears long messages (SIMD) or runs the table loop alone. */
export type WasmCrc32 = Crc32Function & { readonly clearingPass: boolean };

/**
 * The WebAssembly CRC-32, or null where WebAssembly is missing or may not be compiled (a CSP
 * without `wasm-unsafe-eval`) or the module disagrees with the check value. Synchronous: the
 * module is a few hundred bytes, under every browser's limit for a synchronous compile.
 */
export function createWasmCrc32(): WasmCrc32 | null {
  const exports = instantiate();
  if (exports === null) return null;
  new Int32Array(exports.memory.buffer, 0, SLICES * 256).set(crc32SliceTables());
  // The memory never grows, so these views stay valid.
  const memory = new Uint8Array(exports.memory.buffer);
  const ring = memory.subarray(RING_AT, RING_AT + RING_MASK + 1);
  const { crc, clear } = exports;
  const tableLoop: Crc32Function = (data, initial = 0) => {
    let value = initial;
    for (let at = 0; at < data.length; at += CHUNK_BYTES) {
      const chunk = data.subarray(at, Math.min(data.length, at + CHUNK_BYTES));
      memory.set(chunk, DATA_AT);
      value = crc(DATA_AT, chunk.length, value) >>> 0;
    }
    return value >>> 0;
  };
  const crc32: Crc32Function = (data, initial = 0) => {
    if (clear === undefined || data.length < CLEARING_MIN_BYTES) return tableLoop(data, initial);
    const lanes = data.length >>> 4;
    const head = lanes - TAIL_LANES;
    ring.fill(0);
    let value = initial;
    let lane = 0;
    for (let at = 0; at < data.length; at += CHUNK_BYTES) {
      const chunk = data.subarray(at, Math.min(data.length, at + CHUNK_BYTES));
      memory.set(chunk, DATA_AT);
      const chunkLanes = chunk.length >>> 4;
      clear(DATA_AT, chunkLanes, lane, head);
      // The tail's bytes in this chunk (the last chunk's odd bytes after its lanes included).
      const tailAt = Math.max(0, head - lane) * 16;
      if (tailAt < chunk.length) {
        if (lane <= head) value = crc32OfZeros(initial, head * 16);
        value = crc(DATA_AT + tailAt, chunk.length - tailAt, value) >>> 0;
      }
      lane += chunkLanes;
    }
    return value >>> 0;
  };
  // The standard check value, and a continuation; and the clearing pass against the table loop.
  const check = Uint8Array.from("123456789", (c) => c.charCodeAt(0));
  if (crc32(check) !== 0xcbf43926 || crc32(check.subarray(4), crc32(check.subarray(0, 4))) !== 0xcbf43926) return null;
  // An engine whose SIMD disagreed with the table loop would corrupt every long frame: then the loop alone.
  const long = new Uint8Array(CLEARING_MIN_BYTES + 17).map((_, i) => (i * 2_654_435_761) >>> 24);
  const clearingPass = clear !== undefined && crc32(long, 1) === tableLoop(long, 1);
  return Object.assign(clearingPass ? crc32 : tableLoop, { clearingPass });
}

/**
 * Makes the WebAssembly CRC-32 the core's `crc32` (runtime/queue/crc32.ts) where it compiles;
 * elsewhere the core's JS table loop stays. Each thread that checksums calls it once: the queue
 * worker for its frames, the page for the documents it lends its buffer with.
 */
export function installWasmCrc32(): void {
  const wasm = createWasmCrc32();
  if (wasm !== null) installCrc32(wasm);
}
