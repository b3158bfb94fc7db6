/**
 * The sync session's small parts on their own: the request builder's UTF-8 length, the answer
 * decoder's rejection codes, and the acknowledgement debouncing.
 */
import { describe, expect, test } from "@jest/globals";
import { serialize } from "bson";
import { ACK_FLUSH_INTERVAL_MS, AcknowledgementFlusher } from "../../../runtime/sync/acknowledgement-flusher.js";
import { decodeIngestResponse } from "../../../runtime/sync/decode-ingest-response.js";
import { encodeIngestRequest, measureIngestEntry, measureIngestRequestBase } from "../../../runtime/sync/encode-ingest-request.js";
import type { SyncError } from "../../../runtime/sync/sync-error.js";
import { utf8ByteLength } from "../../../runtime/sync/utf8-byte-length.js";

describe("utf8ByteLength", () => {
  test("counts what TextEncoder writes, lone surrogates as U+FFFD", () => {
    const samples = ["", "WeatherSensor", "é", "Température", "温度", "😀", "a😀b", "\u{10FFFF}", "\uD800", "\uDC00", "x\uD83Dy", "\uDE00\uD83D", "\u07FF\u0800\uFFFF"];
    const encoder = new TextEncoder();
    for (const text of samples) expect([text, utf8ByteLength(text)]).toEqual([text, encoder.encode(text).length]);
  });

  test("the request's measured size is its encoded size for non-ASCII table names", () => {
    const documents = [
      { seq: 1, table: "Température", bson: serialize({ _id: 1 }) },
      { seq: 2, table: "温度😀", bson: serialize({ _id: 2 }) },
    ];
    const queueId = "queue-ü";
    const measured = measureIngestRequestBase(queueId, true) + documents.reduce((sum, document, i) => sum + measureIngestEntry(document, i), 0);
    expect(encodeIngestRequest(queueId, documents, 0).length).toBe(measured);
  });
});

describe("decodeIngestResponse", () => {
  test("keeps the codes of this protocol; a code it does not know reads as `rejected`, the code leading the reason", () => {
    const body = serialize({
      acknowledgedSeq: 3,
      rejected: [
        { seq: 1, table: "A", code: "duplicate_id", reason: "another document has this _id" },
        { seq: 2, table: "A", code: "quota_exceeded", reason: "over the quota" },
        { seq: 3, table: "A" },
      ],
    });
    expect(decodeIngestResponse(body).rejected).toEqual([
      { seq: 1, table: "A", code: "duplicate_id", reason: "another document has this _id" },
      { seq: 2, table: "A", code: "rejected", reason: "quota_exceeded: over the quota" },
      { seq: 3, table: "A", code: "rejected", reason: "rejected by the server" },
    ]);
  });
});

describe("AcknowledgementFlusher", () => {
  function makeSource(failures = 0) {
    const source = {
      acked: 0,
      writes: [] as number[],
      failures,
      acknowledgedSeq: () => source.acked,
      acknowledge(seq: number) {
        if (source.failures > 0) {
          source.failures--;
          throw new Error("ENOSPC: no space left on device");
        }
        source.writes.push(seq);
        source.acked = seq;
      },
    };
    return source;
  }

  test("writes at most once per interval, and every answer within the interval even when no other follows", async () => {
    const source = makeSource();
    let handled = 0;
    const flusher = new AcknowledgementFlusher(source, () => handled, () => undefined);
    handled = 5;
    flusher.flushSoon();
    flusher.flushSoon();
    // Creation counts as a write: nothing yet.
    expect(source.writes).toEqual([]);
    handled = 7;
    await new Promise((resolve) => setTimeout(resolve, ACK_FLUSH_INTERVAL_MS + 50));
    // One timer, reading the seq handled when it fires.
    expect(source.writes).toEqual([7]);
    // An answer right after a write: not written at once, but by the timer, with no later call.
    handled = 9;
    flusher.flushSoon();
    expect(source.writes).toEqual([7]);
    await new Promise((resolve) => setTimeout(resolve, ACK_FLUSH_INTERVAL_MS + 50));
    expect(source.writes).toEqual([7, 9]);
    handled = 12;
    flusher.flush();
    expect(source.writes).toEqual([7, 9, 12]);
    flusher.close();
  });

  test("a failed write is reported once until one succeeds, and nothing is written after close", () => {
    const source = makeSource(2);
    const reports: SyncError[] = [];
    let handled = 3;
    const flusher = new AcknowledgementFlusher(source, () => handled, (error) => reports.push(error));
    flusher.flush();
    flusher.flush();
    expect(reports.map((error) => error.code)).toEqual(["acknowledge_failed"]);
    expect(reports[0]!.message).toContain("could not record the acknowledgement of 3: ENOSPC");
    flusher.flush();
    expect(source.writes).toEqual([3]);
    handled = 4;
    flusher.close();
    flusher.flush();
    expect(source.writes).toEqual([3]);
  });
});
