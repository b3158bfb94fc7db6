/**
 * The SQLite store's packed row values (what crosses to its worker): every value reads back with
 * its JS type and exact value after the hand-off, blobs as bytes of their own, and a span outside
 * the batch is refused.
 */
import { describe, expect, it } from "@jest/globals";
import { readRowValues, RowValuesPacker } from "../../server/stores/sqlite-row-values.js";
import type { SqlValue } from "../../server/tables/column-values.js";

describe("packed row values", () => {
  const values: SqlValue[] = [
    null,
    0,
    -0,
    Number.NaN,
    -Infinity,
    29.92,
    0n,
    -(2n ** 63n),
    2n ** 63n - 1n,
    "",
    'ünïcode "ключ" 🚀 \u0000 \u2028',
    true,
    false,
    Buffer.alloc(0),
    Buffer.from([0, 1, 2, 255]),
  ];

  it("reads every value back with its JS type, row by row, after the hand-off (cloned values, transferred blobs)", () => {
    const packer = new RowValuesPacker();
    const ends: number[] = [];
    // A blob that is a view of a larger buffer (as one of the request body is): only its bytes cross.
    const body = Buffer.from("....blob bytes....");
    for (const value of [...values, body.subarray(4, 14)]) {
      packer.add(value);
      packer.add(value);
      ends.push(packer.length);
    }
    const packed = packer.finish();
    expect(packed.blobs.byteLength).toBe(2 * (4 + 10));
    const moved = structuredClone(packed, { transfer: [packed.blobs.buffer as ArrayBuffer] });
    const blobs = Buffer.from(moved.blobs.buffer, moved.blobs.byteOffset, moved.blobs.byteLength);
    let start = 0;
    [...values, Buffer.from("blob bytes")].forEach((value, i) => {
      // toEqual tells 0 from -0, a bigint from a number, and compares NaN and Buffers by value.
      expect(readRowValues(moved.values, start, ends[i]!, blobs)).toEqual([value, value]);
      start = ends[i]!;
    });
  });

  it("refuses a row past the batch's values and a blob outside its blobs", () => {
    const packer = new RowValuesPacker();
    packer.add(Buffer.from([1, 2, 3]));
    const { values: packed, blobs } = packer.finish();
    expect(() => readRowValues(packed, 0, 2, Buffer.from(blobs))).toThrow("sqlite store: a packed row runs past the batch's values");
    expect(() => readRowValues(packed, 0, 1, Buffer.alloc(2))).toThrow("sqlite store: a packed blob lies outside the batch's blobs");
  });
});
