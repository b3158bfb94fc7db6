/**
 * The sync session's spare request bodies: what is kept, what is handed out, and that requests
 * written into a reused body are byte for byte the ones written into a new one.
 */
import { describe, expect, test } from "@jest/globals";
import { serialize } from "bson";
import { encodeIngestRequest } from "../../../runtime/sync/encode-ingest-request.js";
import { RequestBodyPool } from "../../../runtime/sync/request-body-pool.js";

describe("RequestBodyPool", () => {
  test("hands back a kept buffer that fits, else a new one with room to spare", () => {
    const pool = new RequestBodyPool();
    const fresh = pool.take(800);
    expect(fresh.byteLength).toBe(900);
    pool.give(fresh);
    expect(pool.take(850)).toBe(fresh);
    pool.give(fresh);
    const larger = pool.take(1000);
    expect(larger).not.toBe(fresh);
    expect(pool.take(10)).toBe(fresh);
  });

  test("keeps at most three buffers, the largest, and none over 2 MiB", () => {
    const pool = new RequestBodyPool();
    const sizes = [100, 200, 300, 400];
    const buffers = sizes.map((n) => new ArrayBuffer(n));
    for (const buffer of buffers) pool.give(buffer);
    pool.give(new ArrayBuffer(3 * 1024 * 1024));
    const taken = [pool.take(1), pool.take(1), pool.take(1)];
    expect(new Set(taken)).toEqual(new Set(buffers.slice(1)));
    expect(pool.take(1).byteLength).toBeLessThan(16);
    pool.give(buffers[0]!);
    pool.clear();
    expect(pool.take(100)).not.toBe(buffers[0]);
  });

  test("a request written into a reused, dirty buffer is the one written into a new buffer", () => {
    const pool = new RequestBodyPool();
    const documents = Array.from({ length: 20 }, (_, i) => ({ seq: i + 1, table: i % 3 ? "WeatherSensor" : "Température", bson: serialize({ _id: i, text: "x".repeat(i * 7) }) }));
    const dirty = pool.take(8192);
    new Uint8Array(dirty).fill(0xab);
    pool.give(dirty);
    const reused = encodeIngestRequest("queue-1", documents, 41, (size) => pool.take(size));
    expect(reused.buffer).toBe(dirty);
    expect(Buffer.from(reused)).toEqual(Buffer.from(encodeIngestRequest("queue-1", documents, 41)));
  });
});
