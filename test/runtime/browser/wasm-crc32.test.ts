/**
 * The queue worker's WebAssembly CRC-32 (runtime/browser/wasm-crc32.ts), run in Node's V8 (the
 * same module the browser compiles): it agrees with node:zlib's crc32 on every length around its
 * 16-byte steps, its 176 KiB chunks and where long messages switch to the clearing pass (and
 * around that pass's 48 KB tail), continuing from a previous value, as the frame checksums need
 * (the frames must stay readable by the Node queue); with SIMD and without.
 */
import zlib from "node:zlib";
import { describe, expect, it } from "@jest/globals";
import { crc32ModuleBytes, createWasmCrc32 } from "../../../runtime/browser/wasm-crc32.js";
import { computeCrc32Slice16, crc32OfZeros } from "../../../runtime/queue/crc32.js";

const chunk = 4 * 65_536 - 64 * 1024 - 16 * 1024;
const clearingFrom = 128 * 1024;
const tail = 16 * 3006;
const lengths = [0, 1, 15, 16, 17, 31, 32, 33, 1000, clearingFrom - 1, clearingFrom, clearingFrom + 15, chunk - 1, chunk, chunk + 1];
lengths.push(chunk + tail - 16, chunk + tail, chunk + tail + 16, 2 * chunk + 17, 433_013, 1_000_003);

/** Bytes that are not a short cycle (a message of repeats could hide a wrong clearing pass). */
function sample(length: number): Uint8Array {
  let x = 0x2545f491;
  return new Uint8Array(length).map(() => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 24;
  });
}

/** The CRC-32 from a module built with or without SIMD (the other refused, as an engine without it would). */
function crc32Built(simd: boolean) {
  const { Module } = WebAssembly;
  const refused = crc32ModuleBytes(!simd).length;
  (WebAssembly as { Module: unknown }).Module = function onlyOne(bytes: Uint8Array<ArrayBuffer>) {
    if (bytes.length === refused) throw new WebAssembly.CompileError("refused for the test");
    return new Module(bytes);
  };
  try {
    return createWasmCrc32();
  } finally {
    (WebAssembly as { Module: unknown }).Module = Module;
  }
}

describe("the WebAssembly CRC-32", () => {
  const data = sample(1_000_010);

  it.each([
    ["with SIMD (the clearing pass)", true],
    ["without SIMD (the table loop alone)", false],
  ])("%s: a valid module that agrees with node:zlib and the JS fallback, from any start, across chunks", (_name, simd) => {
    expect(WebAssembly.validate(crc32ModuleBytes(simd))).toBe(true);
    const crc32 = crc32Built(simd);
    expect(crc32?.clearingPass).toBe(simd);
    for (const length of lengths) {
      const part = data.subarray(3, 3 + length);
      expect(crc32!(part)).toBe(zlib.crc32(part));
      expect(crc32!(part, 0xdeadbeef)).toBe(zlib.crc32(part, 0xdeadbeef));
      expect(crc32!(part, 12_345)).toBe(computeCrc32Slice16(part, 12_345));
    }
    expect(crc32!(data.subarray(500_000), crc32!(data.subarray(0, 500_000)))).toBe(zlib.crc32(data));
  });

  it("clears a message to zeros and a tail with the same checksum: one changed byte anywhere changes it as zlib's does", () => {
    const crc32 = crc32Built(true)!;
    expect(crc32.clearingPass).toBe(true);
    const message = Uint8Array.from(data.subarray(0, 433_013));
    for (const at of [0, 1, 16 * 140, 16 * 791 + 5, 16 * 3006, 200_000, 433_013 - tail - 1, 433_013 - tail, 433_012]) {
      message[at] = message[at]! ^ 0x5a;
      expect(crc32(message)).toBe(zlib.crc32(message));
      message[at] = message[at]! ^ 0x5a;
    }
  });

  it("crc32OfZeros gives the checksum of zero bytes without reading them", () => {
    for (const [initial, length] of [[0, 0], [0, 1], [7, 3], [0xdeadbeef, 1000], [0xffffffff, 65_536], [1, 400_000]] as const)
      expect(crc32OfZeros(initial, length)).toBe(zlib.crc32(new Uint8Array(length), initial));
  });

  it("is null where WebAssembly may not compile (a CSP without wasm-unsafe-eval), so the JS fallback stays", () => {
    const { Module } = WebAssembly;
    (WebAssembly as { Module: unknown }).Module = function refused() {
      throw new WebAssembly.CompileError("WebAssembly.Module(): Refused to compile (CSP)");
    };
    try {
      expect(createWasmCrc32()).toBeNull();
    } finally {
      (WebAssembly as { Module: unknown }).Module = Module;
    }
  });
});
