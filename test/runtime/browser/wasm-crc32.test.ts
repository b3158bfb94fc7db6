/**
 * The queue worker's WebAssembly CRC-32 (runtime/browser/wasm-crc32.ts), run in Node's V8 (the
 * same module the browser compiles): it agrees with node:zlib's crc32 on every length around
 * its 16-byte steps and its 112 KiB chunks, continuing from a previous value, as the frame
 * checksums need (the frames must stay readable by the Node queue).
 */
import zlib from "node:zlib";
import { describe, expect, it } from "@jest/globals";
import { crc32ModuleBytes, createWasmCrc32 } from "../../../runtime/browser/wasm-crc32.js";
import { computeCrc32Slice16 } from "../../../runtime/queue/crc32.js";

describe("the WebAssembly CRC-32", () => {
  it("is a valid module that agrees with node:zlib and the JS fallback, from any start, across chunks", () => {
    expect(WebAssembly.validate(crc32ModuleBytes())).toBe(true);
    const crc32 = createWasmCrc32();
    expect(crc32).not.toBeNull();
    const data = new Uint8Array(300_007).map((_, i) => (i * 2_654_435_761) >>> 24);
    const chunk = 2 * 65_536 - 16 * 1024;
    for (const length of [0, 1, 15, 16, 17, 31, 32, 33, 1000, chunk - 1, chunk, chunk + 1, 2 * chunk + 17, data.length - 3]) {
      const part = data.subarray(3, 3 + length);
      expect(crc32!(part)).toBe(zlib.crc32(part));
      expect(crc32!(part, 0xdeadbeef)).toBe(zlib.crc32(part, 0xdeadbeef));
      expect(crc32!(part, 12_345)).toBe(computeCrc32Slice16(part, 12_345));
    }
    expect(crc32!(data.subarray(5000), crc32!(data.subarray(0, 5000)))).toBe(zlib.crc32(data));
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
