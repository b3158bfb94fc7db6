/**
 * The upload bound of the browser crash tests (realm-faults-support.ts `checkUploadsAfterKills`)
 * on made-up proxy logs, without a browser: it passes what a queue keeping its acknowledgement
 * cursor does, and fails a queue that re-uploads its acknowledged backlog after a restart.
 */
import { describe, expect, it } from "@jest/globals";
import type { IngestExchange } from "./realm-fixture.js";
import { ACK_DURABLE_WITHIN_MS, checkUploadsAfterKills } from "./realm-faults-support.js";

/** An upload of seqs `from`…`to` sent at `at`, answered 100 ms later with everything acknowledged (or never, when `answered` is false). */
function upload(at: number, from: number, to: number, answered = true): IngestExchange {
  const seqs = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  return { startedAt: at, answeredAt: answered ? at + 100 : null, status: answered ? 200 : null, queueId: "q", seqs, acknowledgedSeq: answered ? to : null };
}

describe("checkUploadsAfterKills", () => {
  const kill = 10_000;
  const longBefore = kill - ACK_DURABLE_WITHIN_MS - 1_000;

  it("passes a restart that re-sends only what was in flight or answered just before the kill", () => {
    const log = [upload(longBefore, 1, 10), upload(kill - 500, 11, 20), upload(kill - 100, 21, 30, false), upload(kill + 5_000, 11, 30)];
    expect(checkUploadsAfterKills(log, [kill], "ok")).toEqual({ uploadedDocuments: 50, distinctDocuments: 30, resentAcknowledged: 10, oldestResentAckMs: 400 });
  });

  it("passes an answer lost with an earlier kill and sent again after a later one, however old", () => {
    const first = 5_000;
    // Answered 200 ms before the first kill: never in the cursor; the run after it died before its answer.
    const log = [upload(first - 300, 1, 10), upload(first + 2_000, 1, 10, false), upload(kill + 5_000, 1, 10)];
    expect(() => checkUploadsAfterKills(log, [first, kill], "ok")).not.toThrow();
  });

  it("passes a re-send of what was answered after the kill (the dead page never saw it)", () => {
    const first = 2_000;
    const log = [upload(first - 50, 1, 10), upload(kill + 5_000, 1, 10)];
    expect(() => checkUploadsAfterKills(log, [first, kill], "ok")).not.toThrow();
  });

  it("fails a restart that re-sends what the browser outlived the answer of", () => {
    const log = [upload(longBefore, 1, 10), upload(kill - 500, 11, 20), upload(kill + 5_000, 1, 20)];
    expect(() => checkUploadsAfterKills(log, [kill], "re-upload")).toThrow(/re-upload: an upload 5000 ms after a kill re-sent seq 1, acknowledged \(up to 10\)/);
  });
});
