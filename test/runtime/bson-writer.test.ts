import { describe, expect, test } from "@jest/globals";
import { Decimal128, deserialize, Double, Long, ObjectId, serialize, UUID } from "bson";
import { BsonWriter, arrayKey } from "../../runtime/encode/bson-writer.js";

describe("BsonWriter", () => {
  test("adopt() writes from the start of a buffer handed back after a transfer detached the writer's own, growing past it as needed", () => {
    const w = new BsonWriter(16);
    const start = w.startDocument();
    w.string("s", "x".repeat(40));
    w.endDocument(start);
    const sent = w.bytes.buffer as ArrayBuffer;
    // Transferred away (the browser Realm posts it to its worker): the writer's buffer is detached.
    const returned = structuredClone(sent, { transfer: [sent] });
    expect(w.bytes.byteLength).toBe(0);
    w.adopt(returned);
    expect(w.length).toBe(0);
    const again = w.startDocument();
    w.int32("a", 1);
    w.string("big", "y".repeat(500));
    w.endDocument(again);
    expect(deserialize(w.subarray())).toEqual({ a: 1, big: "y".repeat(500) });
    expect(() => w.adopt(new ArrayBuffer(0))).toThrow(RangeError);
  });

  test("reserve() leaves room that is filled in later, ahead of the body, in one buffer", () => {
    const w = new BsonWriter(16);
    const at = w.reserve(100); // past the initial capacity: the writer grows
    const start = w.startDocument();
    w.int32("a", 1);
    w.endDocument(start);
    w.subarray(at, at + 100).fill(7);
    expect(at).toBe(0);
    expect(w.length).toBe(100 + 12);
    expect(w.subarray(0, 100).every((b) => b === 7)).toBe(true);
    expect(deserialize(w.subarray(100))).toEqual({ a: 1 });
    // `bytes` is the buffer itself (no view created): the same bytes, addressed by offset.
    expect(w.bytes.length).toBeGreaterThanOrEqual(w.length);
    expect(Buffer.from(w.bytes.buffer, w.bytes.byteOffset, w.length).equals(Buffer.from(w.subarray()))).toBe(true);
  });

  test("writes every element type so that bson's deserialize reads it back", () => {
    const w = new BsonWriter(16); // small, so the buffer has to grow
    const id = new ObjectId();
    const uuid = new UUID();
    const at = new Date(1_700_000_000_123);
    const doc = w.startDocument();
    w.objectId("_id", id);
    w.string("name", "héllo wörld ✓");
    w.double("d", 1.5);
    w.int32("i32", -7);
    w.int64("i64", 9007199254740993n);
    w.bool("b", true);
    w.null("n");
    w.date("at", at);
    w.uuid("u", uuid);
    w.decimal128("dec", Decimal128.fromString("12.345"));
    w.binary("bin", new Uint8Array([1, 2, 3]));
    const arr = w.startArray("list");
    w.int64(arrayKey(0), 1);
    w.string(arrayKey(1), "x");
    w.endDocument(arr);
    const sub = w.startObject("sub");
    w.string("k", "v");
    w.endDocument(sub);
    w.endDocument(doc);

    const back = deserialize(w.copy(), { useBigInt64: true, promoteBuffers: false });
    expect(back._id.toHexString()).toBe(id.toHexString());
    expect(back.name).toBe("héllo wörld ✓");
    expect(back.d).toBe(1.5);
    expect(back.i32).toBe(-7);
    expect(back.i64).toBe(9007199254740993n);
    expect(back.b).toBe(true);
    expect(back.n).toBeNull();
    expect(back.at).toEqual(at);
    expect(back.u.toUUID().toHexString()).toBe(uuid.toHexString());
    expect(back.dec.toString()).toBe("12.345");
    expect(Array.from(back.bin.buffer)).toEqual([1, 2, 3]);
    expect(back.list).toEqual([1n, "x"]);
    expect(back.sub).toEqual({ k: "v" });
    expect(Long.isLong(back.i64)).toBe(false);
  });

  test("writes int64 numbers, doubles and dates byte for byte as bson's serialize does, at the edges of their ranges", () => {
    const int64s = [0, 1, -1, 255, 256, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 32 + 1, -(2 ** 32) - 1, -0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.MIN_SAFE_INTEGER + 1];
    const doubles = [0, -0, 1.5, -2.25, 0.1, 1e-310, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 53 + 2, 29.92];
    const dates = [0, 1, -1, 1_700_000_000_123, -62_135_596_800_000, 8.64e15, -8.64e15].map((ms) => new Date(ms));
    const w = new BsonWriter(16);
    const doc = w.startDocument();
    const expected: Record<string, unknown> = {};
    int64s.forEach((value, i) => {
      w.int64(`i${i}`, value);
      expected[`i${i}`] = Long.fromNumber(value);
    });
    doubles.forEach((value, i) => {
      w.double(`d${i}`, value);
      expected[`d${i}`] = new Double(value);
    });
    dates.forEach((value, i) => {
      w.date(`t${i}`, value);
      expected[`t${i}`] = value;
    });
    w.endDocument(doc);
    expect(Buffer.from(w.copy()).toString("hex")).toBe(Buffer.from(serialize(expected)).toString("hex"));
  });

  test("truncate rolls back to a mark", () => {
    const w = new BsonWriter();
    const mark = w.mark();
    const doc = w.startDocument();
    w.string("a", "b");
    w.endDocument(doc);
    w.truncate(mark);
    expect(w.length).toBe(0);
  });
});
