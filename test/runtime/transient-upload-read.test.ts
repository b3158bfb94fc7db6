/**
 * The queue's transient reads for upload (readBatchToUpload(…, true)): the same documents as a
 * plain read, with their bytes in one reused buffer, and the plain reads unaffected by them.
 */
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DurableQueue } from "../../runtime/queue/durable-queue.js";
import { ReusedDocumentBytes } from "../../runtime/queue/reused-document-bytes.js";
import { openNodeLogStore } from "../../runtime/node/node-log-store.js";
import { encodeSymbol } from "../../runtime/codegen/model-class.js";
import { Measurement, type MeasurementInit } from "../support/queue-models.js";

const encodeMeasurement = Measurement[encodeSymbol];
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-transient-"));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function measurement(id: number): MeasurementInit {
  return { id, deviceId: `dev-${id % 7}`, value: id / 3 };
}

/** A queue holding `count` documents in transactions of `perTxn`. */
function filledQueue(count: number, perTxn: number): DurableQueue {
  const queue = DurableQueue.open({ store: openNodeLogStore(dir), durability: "os" });
  for (let n = 0; n < count; n += perTxn) {
    queue.begin();
    for (let i = n; i < Math.min(count, n + perTxn); i++) queue.append("measurement", encodeMeasurement, measurement(i + 1));
    queue.commit(false);
  }
  return queue;
}

describe("transient reads for upload", () => {
  it("read the same documents as plain reads, across frames and within count and byte limits", async () => {
    const queue = filledQueue(250, 30);
    try {
      for (const [after, count, bytes] of [
        [0, 1000, 1 << 20],
        [0, 45, 1 << 20],
        [17, 100, 1 << 20],
        [100, 1000, 2000],
      ] as const) {
        const plain = queue.readBatch(after, count, bytes);
        const transient = queue.readBatchToUpload(after, count, bytes, true);
        await transient.onStableStorage;
        expect(transient.documents.map((d) => [d.seq, d.table, Buffer.from(d.bson).toString("hex")])).toEqual(
          plain.map((d) => [d.seq, d.table, Buffer.from(d.bson).toString("hex")]),
        );
      }
    } finally {
      queue.close();
    }
  });

  it("reuse one buffer from read to read, and leave the documents of plain reads alone", async () => {
    const queue = filledQueue(100, 10);
    try {
      const plain = queue.readBatch(0, 10, 1 << 20);
      const kept = plain.map((d) => Buffer.from(d.bson).toString("hex"));
      const first = queue.readBatchToUpload(0, 10, 1 << 20, true);
      const second = queue.readBatchToUpload(50, 10, 1 << 20, true);
      await Promise.all([first.onStableStorage, second.onStableStorage]);
      // The second read wrote its documents where the first one's were: same buffer, same place.
      expect(second.documents[0]!.bson.buffer).toBe(first.documents[0]!.bson.buffer);
      expect(second.documents[0]!.bson.byteOffset).toBe(first.documents[0]!.bson.byteOffset);
      expect(plain.map((d) => Buffer.from(d.bson).toString("hex"))).toEqual(kept);
      expect(plain[0]!.bson.buffer).not.toBe(first.documents[0]!.bson.buffer);
    } finally {
      queue.close();
    }
  });
});

describe("ReusedDocumentBytes", () => {
  it("copies ranges back to back, and into a new buffer when one does not fit, leaving earlier copies intact", () => {
    const bytes = new ReusedDocumentBytes();
    const a = bytes.copy(new Uint8Array([1, 2, 3]));
    const b = bytes.copy(new Uint8Array([4, 5]));
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset + 3);
    const big = bytes.copy(new Uint8Array(200 * 1024).fill(9));
    expect(big.buffer).not.toBe(a.buffer);
    expect([...a, ...b]).toEqual([1, 2, 3, 4, 5]);
    expect(big.every((x) => x === 9)).toBe(true);
    bytes.reset();
    const c = bytes.copy(new Uint8Array([7]));
    expect(c.buffer).toBe(big.buffer);
    expect(c.byteOffset).toBe(0);
  });
});
