/**
 * One user cannot stall everyone (issue 10, attack 3), over real HTTP on a real SQLite store:
 * requests that declare a body and send nothing hold no bytes and no batch slot; bytes are
 * counted as they arrive, against the user's own share first (429: its own doing) and then the
 * server's budget (503); and another user's upload goes through promptly meanwhile.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ingestPath } from "../../runtime/sync/ingest-protocol.js";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import type { IngestLimits } from "../../server/routes/ingest-route.js";
import { encodeBatch, loginAnonymous, makeWeatherDoc, newQueueId, postIngest, testSchema } from "../support/ingest-server-fixtures.js";

const appId = "share-app";

/** A batch of one WeatherSensor document with `noteBytes` of notes. */
function batchOf(noteBytes: number): Uint8Array {
  return encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: { ...makeWeatherDoc(1), notes: "n".repeat(noteBytes) } }]);
}

/** An ingest request on a raw socket that declares `declared` bytes, sends `sent` of them, then stalls. */
interface StalledRequest {
  socket: net.Socket;
  /** Everything the server sent back, once the connection closes. */
  answer: Promise<string>;
}

/** Opens a StalledRequest; resolves once the headers and the `sent` bytes are handed to the kernel. */
async function openStalledRequest(url: string, token: string, declared: number, sent = 0): Promise<StalledRequest> {
  const { port, hostname } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => undefined);
  const answer = new Promise<string>((resolve) => socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8"))));
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  const head =
    `POST ${ingestPath(appId)} HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${token}\r\n` +
    `content-type: application/bson\r\ncontent-length: ${declared}\r\n\r\n`;
  await new Promise<void>((resolve, reject) =>
    socket.write(Buffer.concat([Buffer.from(head), Buffer.alloc(sent, 7)]), (error) => (error ? reject(error) : resolve())),
  );
  return { socket, answer };
}

/** Lets the server read and authenticate what was sent (a store lookup per request). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("in-flight bytes: per user first, counted as they arrive", () => {
  let dir: string;
  let server: IngestServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-share-"));
    server = await createIngestServer({ schema: testSchema, appId, store: `sqlite:${path.join(dir, "ingest.sqlite")}`, quiet: true });
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A server on the shared store with `limits`; every stalled request is cut before it closes. */
  async function withServer(limits: Partial<IngestLimits>, run: (s: IngestServer, stalled: StalledRequest[]) => Promise<void>) {
    const other = await createIngestServer({ schema: testSchema, appId, store: server.store, quiet: true, limits });
    const stalled: StalledRequest[] = [];
    try {
      await run(other, stalled);
    } finally {
      for (const request of stalled) request.socket.destroy();
      await other.close();
    }
  }

  it("the reported attack: four requests of one user declaring 16 MiB and sending nothing do not stall another user (default limits)", async () => {
    await withServer({}, async (attacked, stalled) => {
      const attacker = await loginAnonymous(attacked.url, appId);
      const victim = await loginAnonymous(attacked.url, appId);
      // 4 × 16 MiB is the whole default 64 MiB budget: before, each was reserved on its headers.
      for (let i = 0; i < 4; i++) stalled.push(await openStalledRequest(attacked.url, attacker.access_token, 16 * 1024 * 1024));
      await settle();
      const started = performance.now();
      const upload = await postIngest(attacked.url, appId, victim.access_token, batchOf(10_000));
      expect([upload.status, upload.error]).toEqual([200, null]);
      // Not held up behind the attacker's bytes (that wait would end with the 30 s body timeout):
      // 10 s leaves a loaded CI machine room to store 10,000 documents, which 2 s did not always.
      expect(performance.now() - started).toBeLessThan(10_000);
      // The attacker's requests are still open, unanswered: they were refused nothing, and hold nothing.
      expect(stalled.every((request) => !request.socket.destroyed && request.socket.bytesRead === 0)).toBe(true);
    });
  });

  it("a declared length whose bytes never come holds no budget: the whole budget stays available to others", async () => {
    await withServer({ maxBatchBytes: 64 * 1024, maxInFlightBytes: 64 * 1024 }, async (attacked, stalled) => {
      const attacker = await loginAnonymous(attacked.url, appId);
      const victim = await loginAnonymous(attacked.url, appId);
      stalled.push(await openStalledRequest(attacked.url, attacker.access_token, 64 * 1024));
      await settle();
      // 60 KB of a 64 KiB budget: it fits only if the stalled request holds (almost) nothing.
      expect((await postIngest(attacked.url, appId, victim.access_token, batchOf(60_000))).status).toBe(200);
    });
  });

  it("answers 429 + Retry-After past the user's own byte share, while another user goes on; the share frees when the request ends", async () => {
    const limits = { maxBatchBytes: 64 * 1024, maxInFlightBytesPerUser: 64 * 1024, maxInFlightBytes: 256 * 1024 };
    await withServer(limits, async (attacked, stalled) => {
      const attacker = await loginAnonymous(attacked.url, appId);
      const victim = await loginAnonymous(attacked.url, appId);
      // The attacker sends 40 KB of a 60 KB body and stalls: it holds the 60 KB block its bytes
      // are copied into (a block is counted whole, at most 64 KiB past what was sent).
      const half = await openStalledRequest(attacked.url, attacker.access_token, 60_000, 40_000);
      stalled.push(half);
      await settle();
      const before = await attacked.store.countRows();
      const refused = await postIngest(attacked.url, appId, attacker.access_token, batchOf(30_000));
      expect([refused.status, refused.error?.error_code, refused.headers.get("retry-after")]).toEqual([429, "TooManyRequests", "1"]);
      expect(refused.error?.error).toBe(`too many request bytes in flight for this user (maxInFlightBytesPerUser ${64 * 1024})`);
      expect(await attacked.store.countRows()).toEqual(before);
      // The server's budget has room: another user is not refused for this user's bytes.
      expect((await postIngest(attacked.url, appId, victim.access_token, batchOf(30_000))).status).toBe(200);
      half.socket.destroy();
      await half.answer;
      await settle();
      expect((await postIngest(attacked.url, appId, attacker.access_token, batchOf(30_000))).status).toBe(200);
    });
  });

  it("a user cannot take more than its share by sending: the server's budget keeps room for others (503 stays the server's own limit)", async () => {
    // (The short body timeout only bounds how long this test waits where it would fail.)
    const limits = {
      maxBatchBytes: 64 * 1024,
      maxInFlightBytesPerUser: 64 * 1024,
      maxInFlightBytes: 128 * 1024,
      bodyReadTimeoutMs: 5000,
    };
    await withServer(limits, async (attacked, stalled) => {
      const attacker = await loginAnonymous(attacked.url, appId);
      const second = await loginAnonymous(attacked.url, appId);
      const victim = await loginAnonymous(attacked.url, appId);
      // Two requests of one user, each sending most of a 60 KB body: the second is past its share.
      const first = await openStalledRequest(attacked.url, attacker.access_token, 60_000, 50_000);
      stalled.push(first);
      await settle();
      const over = await openStalledRequest(attacked.url, attacker.access_token, 60_000, 50_000);
      stalled.push(over);
      expect(await over.answer).toMatch(/^HTTP\/1\.1 429 [^]*maxInFlightBytesPerUser 65536/);
      // A second user fills the rest of the server's budget (50 + 55 of 128 KiB, no room for
      // the victim's 30 KB): now the server is full for everyone.
      stalled.push(await openStalledRequest(attacked.url, second.access_token, 60_000, 55_000));
      await settle();
      const busy = await postIngest(attacked.url, appId, victim.access_token, batchOf(30_000));
      expect([busy.status, busy.error?.error_code, busy.headers.get("retry-after")]).toEqual([503, "ServiceUnavailable", "1"]);
      first.socket.destroy();
      await first.answer;
      await settle();
      expect((await postIngest(attacked.url, appId, victim.access_token, batchOf(30_000))).status).toBe(200);
    });
  });

  it("a half-sent body holds only what it sent: four users sending half of 16 MiB each leave room for another (the budget costs an attacker its own bytes)", async () => {
    await withServer({}, async (attacked, stalled) => {
      const victim = await loginAnonymous(attacked.url, appId);
      for (let i = 0; i < 4; i++) {
        const attacker = await loginAnonymous(attacked.url, appId);
        // Past half of the declared length: a pre-sized buffer would count all 16 MiB here.
        stalled.push(await openStalledRequest(attacked.url, attacker.access_token, 16 * 1024 * 1024, 8 * 1024 * 1024 + 1));
      }
      await settle();
      const upload = await postIngest(attacked.url, appId, victim.access_token, batchOf(10_000));
      expect([upload.status, upload.error]).toEqual([200, null]);
    });
  });

  it("requests whose bodies have not arrived hold no batch slot: several users' idle requests do not stall another", async () => {
    await withServer({ maxInFlightBatches: 4, maxInFlightPerUser: 2 }, async (attacked, stalled) => {
      const victim = await loginAnonymous(attacked.url, appId);
      for (let user = 0; user < 2; user++) {
        const attacker = await loginAnonymous(attacked.url, appId);
        for (let i = 0; i < 2; i++) stalled.push(await openStalledRequest(attacked.url, attacker.access_token, 1024));
      }
      await settle();
      expect((await postIngest(attacked.url, appId, victim.access_token, batchOf(100))).status).toBe(200);
    });
  });
});
