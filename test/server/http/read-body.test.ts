/**
 * readBody counts the memory a body holds, not only its bytes: a body sent as tiny chunks (each a
 * Buffer of its own, some 250 bytes apiece) is copied into blocks counted whole, so what the
 * budget sees is what the server holds; large chunks are kept without a copy.
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "@jest/globals";
import type { HttpError } from "../../../server/http/http-error.js";
import { readBody } from "../../../server/http/read-body.js";

/** A request that emits `chunks` as its body, then ends. */
function requestOf(chunks: Buffer[], headers: Record<string, string> = {}): IncomingMessage {
  const req = new EventEmitter() as IncomingMessage & EventEmitter;
  Object.assign(req, { headers, pause: () => req });
  setImmediate(() => {
    for (const chunk of chunks) req.emit("data", chunk);
    req.emit("end");
  });
  return req;
}

/** A budget that records what it was asked to take, and refuses past `limit`. */
function recordingBudget(limit = Number.POSITIVE_INFINITY) {
  const takes: number[] = [];
  let held = 0;
  return {
    takes,
    held: () => held,
    budget: {
      check: (bytes: number): HttpError | null => (held + bytes > limit ? ({ status: 503 } as HttpError) : null),
      take(bytes: number): HttpError | null {
        if (held + bytes > limit) return { status: 503 } as HttpError;
        takes.push(bytes);
        held += bytes;
        return null;
      },
    },
  };
}

describe("readBody", () => {
  it("copies 1-byte chunks into 64 KiB blocks counted whole, and returns the body intact", async () => {
    const body = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    const chunks = Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1));
    const recorded = recordingBudget();
    const read = await readBody(requestOf(chunks), { maxBytes: 1 << 20, timeoutMs: 5000, budget: recorded.budget });
    expect(read.equals(body)).toBe(true);
    // Two blocks (64 KiB, then the rest the cap allows), not 100,000 one-byte Buffers.
    expect(recorded.takes).toEqual([65_536, 65_536]);
  });

  it("sizes a block by what the declared length still allows, and keeps large chunks without a copy", async () => {
    const small = Buffer.alloc(1000, 1);
    const recordedSmall = recordingBudget();
    const chunks = [small.subarray(0, 10), small.subarray(10)];
    expect((await readBody(requestOf(chunks, { "content-length": "1000" }), { maxBytes: 1 << 20, timeoutMs: 5000, budget: recordedSmall.budget })).equals(small)).toBe(true);
    expect(recordedSmall.takes).toEqual([1000]);

    const large = Buffer.alloc(3 * 65_536, 2);
    const recordedLarge = recordingBudget();
    const largeChunks = [large.subarray(0, 65_536), large.subarray(65_536, 131_072), large.subarray(131_072)];
    const read = await readBody(requestOf(largeChunks, { "content-length": String(large.length) }), {
      maxBytes: 1 << 20,
      timeoutMs: 5000,
      budget: recordedLarge.budget,
    });
    expect(read.equals(large)).toBe(true);
    expect(recordedLarge.takes).toEqual([65_536, 65_536, 65_536]);
  });

  it("counts a declared body exactly its length when small and large pieces alternate (a maximal batch fits its user's share)", async () => {
    const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 253));
    const cuts = [0, 10, 70_010, 70_015, 135_551, 135_600, 300_000];
    const chunks = cuts.slice(1).map((end, i) => body.subarray(cuts[i], end));
    const recorded = recordingBudget();
    const read = await readBody(requestOf(chunks, { "content-length": String(body.length) }), {
      maxBytes: 1 << 20,
      timeoutMs: 5000,
      budget: recorded.budget,
    });
    expect(read.equals(body)).toBe(true);
    expect(recorded.held()).toBe(body.length);
  });

  it("refuses a tiny-chunk body once the blocks it holds pass the budget, however few bytes it has sent", async () => {
    const chunks = Array.from({ length: 70_000 }, () => Buffer.from([7]));
    const recorded = recordingBudget(100_000);
    await expect(readBody(requestOf(chunks), { maxBytes: 1 << 20, timeoutMs: 5000, budget: recorded.budget })).rejects.toMatchObject({ status: 503 });
    expect(recorded.held()).toBe(65_536);
  });
});
