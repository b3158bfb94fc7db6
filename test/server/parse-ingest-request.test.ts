/**
 * The envelope reader: per document its seq, table and where its bytes lie, read straight from
 * the body (names matched as bytes, a repeated table name decoded once), and a 400 for damage.
 */
import { describe, expect, it } from "@jest/globals";
import { deserialize, Long, serialize } from "bson";
import { HttpError } from "../../server/http/http-error.js";
import { parseIngestRequest } from "../../server/ingest/parse-ingest-request.js";

const tables = ["WeatherSensor", "WeatherSensor", "device_event", "abc", "abd", "abc", "ключ", "ключ", "WeatherSensor"];

function body(items: Record<string, unknown>[]): Buffer {
  return Buffer.from(serialize({ queueId: "q-1", documents: items }));
}

function status(run: () => unknown): number | null {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof HttpError ? error.status : -1;
  }
}

describe("parseIngestRequest", () => {
  it("reads each document's seq, table (however the tables alternate) and bytes", () => {
    const items = tables.map((table, i) => ({ seq: Long.fromNumber(i + 1), table, extra: { ignored: true }, doc: { n: i, table } }));
    // Fields in another order than the client writes them, for one item.
    items[3] = { doc: { n: 3, table: "abc" }, table: "abc", seq: Long.fromNumber(4) } as (typeof items)[number];
    const parsed = parseIngestRequest(body(items), 1000);
    expect(parsed.queueId).toBe("q-1");
    expect(parsed.documents.map((d) => d.table)).toEqual(tables);
    expect(parsed.documents.map((d) => d.seq)).toEqual(tables.map((_, i) => BigInt(i + 1)));
    parsed.documents.forEach((d, i) => expect(deserialize(parsed.body.subarray(d.start, d.end))).toEqual({ n: i, table: tables[i] }));
  });

  it("refuses damaged names and strings with a 400", () => {
    const good = body([
      { seq: Long.fromNumber(1), table: "abc", doc: { n: 1 } },
      { seq: Long.fromNumber(2), table: "abc", doc: { n: 2 } },
    ]);
    expect(status(() => parseIngestRequest(good, 1000))).toBeNull();
    // The second element's name "1" turned into an invalid UTF-8 byte.
    const badName = Buffer.from(good);
    const second = badName.indexOf(Buffer.from([0x03, 0x31, 0x00]));
    badName[second + 1] = 0xff;
    expect(status(() => parseIngestRequest(badName, 1000))).toBe(400);
    // The second table's bytes damaged: not taken for the first one's name.
    const badTable = Buffer.from(good);
    const at = badTable.lastIndexOf(Buffer.from("abc\u0000", "latin1"));
    badTable[at] = 0xff;
    expect(status(() => parseIngestRequest(badTable, 1000))).toBe(400);
    // A table name with its terminator missing.
    const unterminated = Buffer.from(good);
    unterminated[at + 3] = 0x41;
    expect(status(() => parseIngestRequest(unterminated, 1000))).toBe(400);
  });

  it("reads the optional gate, and refuses one that is not a positive Int64", () => {
    const documents = [{ seq: Long.fromNumber(7), table: "abc", doc: { n: 1 } }];
    const gated = (gate: unknown) => Buffer.from(serialize({ queueId: "q-1", ifAcknowledgedSeq: gate, documents }));
    expect(parseIngestRequest(body(documents), 1000).ifAcknowledgedSeq).toBeNull();
    expect(parseIngestRequest(gated(Long.fromNumber(6)), 1000).ifAcknowledgedSeq).toBe(6n);
    for (const bad of [6, Long.fromNumber(0), Long.fromNumber(-1), "6", null]) expect(status(() => parseIngestRequest(gated(bad), 1000))).toBe(400);
  });
});
