/**
 * Every refused request gets its 4xx and writes nothing: the store's row counts (documents,
 * queues, verdicts) are compared before and after each one.
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Long, serialize } from "bson";
import { signHs256 } from "../../server/auth/jwt.js";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import { recordLog } from "../support/log-recorder.js";
import {
  callJson,
  encodeBatch,
  loginAnonymous,
  makeWeatherDoc,
  newQueueId,
  postIngest,
  sharedTestSecret,
  testSchema,
} from "../support/ingest-server-fixtures.js";

const appId = "secure-app";

/** POSTs with chunked transfer encoding (no Content-Length), in 8 KiB chunks. */
function postChunked(url: string, token: string, body: Uint8Array): Promise<{ status: number; error: { error_code: string } | null }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/bson", "transfer-encoding": "chunked" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, error: JSON.parse(Buffer.concat(chunks).toString("utf8")) as { error_code: string } }),
        );
      },
    );
    // The server may answer 413 and close before the whole body is sent.
    req.on("error", (error) =>
      (error as NodeJS.ErrnoException).code === "EPIPE" || (error as NodeJS.ErrnoException).code === "ECONNRESET"
        ? undefined
        : reject(error),
    );
    for (let i = 0; i < body.length; i += 8192) req.write(body.subarray(i, i + 8192));
    req.end();
  });
}

describe("ingest security", () => {
  let dir: string;
  let server: IngestServer;
  let token: string;
  let userId: string;
  const validBody = () => encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) }]);

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-security-"));
    server = await createIngestServer({
      schema: testSchema,
      appId,
      store: `sqlite:${path.join(dir, "ingest.sqlite")}`,
      quiet: true,
      auth: { secret: sharedTestSecret },
      limits: { maxBatchDocuments: 10, maxBatchBytes: 64 * 1024 },
    });
    const login = await loginAnonymous(server.url, appId);
    token = login.access_token;
    userId = login.user_id;
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function expectRefused(
    status: number,
    send: () => Promise<{ status: number; error: { error_code: string } | null }>,
  ): Promise<void> {
    const before = await server.store.countRows();
    const result = await send();
    expect(result.status).toBe(status);
    expect(result.error?.error_code).toEqual(expect.any(String));
    expect(await server.store.countRows()).toEqual(before);
  }

  it("accepts the valid request the refusals below are variations of", async () => {
    expect((await postIngest(server.url, appId, token, validBody())).status).toBe(200);
  });

  it("401: no token", () => expectRefused(401, () => postIngest(server.url, appId, null, validBody())));

  it("401: a forged token (signed with another secret) and garbage", async () => {
    const forged = signHs256({ sub: userId, sid: "x", aud: appId, typ: "access", iat: 0, exp: 9999999999 }, "not the server secret");
    await expectRefused(401, () => postIngest(server.url, appId, forged, validBody()));
    await expectRefused(401, () => postIngest(server.url, appId, "garbage", validBody()));
    await expectRefused(401, () => postIngest(server.url, appId, `${token.slice(0, -2)}AA`, validBody()));
  });

  it("401: an expired token, correctly signed", async () => {
    const secret = sharedTestSecret;
    const sid = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString())["sid"] as string;
    const now = Math.floor(Date.now() / 1000);
    const expired = signHs256({ sub: userId, sid, aud: appId, typ: "access", iat: now - 100, exp: now - 1 }, secret);
    await expectRefused(401, () => postIngest(server.url, appId, expired, validBody()));
  });

  it("401: a revoked session's access token", async () => {
    const login = await loginAnonymous(server.url, appId);
    expect((await callJson(server.url, "DELETE", "/api/client/v2.0/auth/session", { token: login.refresh_token })).status).toBe(204);
    await expectRefused(401, () => postIngest(server.url, appId, login.access_token, validBody()));
  });

  it("404: another app id; 401: a token minted for another app", async () => {
    await expectRefused(404, () => postIngest(server.url, "other-app", token, validBody()));
    // The same secret, so only the app id (`aud`) tells the tokens apart.
    const other = await createIngestServer({ schema: testSchema, appId: "other-app", store: server.store, quiet: true, auth: { secret: sharedTestSecret } });
    try {
      const otherLogin = await loginAnonymous(other.url, "other-app");
      await expectRefused(401, () => postIngest(server.url, appId, otherLogin.access_token, validBody()));
    } finally {
      await other.close();
    }
  });

  it("400: a model not in the schema (or an embedded one) anywhere in the batch", async () => {
    for (const table of ["NoSuchModel", "Reading", "asymgen_auth"]) {
      const body = encodeBatch(newQueueId(), [
        { seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) },
        { seq: 2, table, doc: makeWeatherDoc(2) },
      ]);
      await expectRefused(400, () => postIngest(server.url, appId, token, body));
    }
  });

  it("413: too many documents, too many bytes (declared or streamed)", async () => {
    const many = encodeBatch(
      newQueueId(),
      Array.from({ length: 11 }, (_, i) => ({ seq: i + 1, table: "WeatherSensor", doc: makeWeatherDoc(i) })),
    );
    await expectRefused(413, () => postIngest(server.url, appId, token, many));
    const big = encodeBatch(newQueueId(), [
      { seq: 1, table: "WeatherSensor", doc: { ...makeWeatherDoc(1), notes: "x".repeat(70 * 1024) } },
    ]);
    await expectRefused(413, () => postIngest(server.url, appId, token, big));
    // No Content-Length: the cap applies while streaming.
    await expectRefused(413, () => postChunked(`${server.url}/api/client/v2.0/app/${appId}/ingest`, token, big));
  });

  it("400: malformed bodies", async () => {
    const valid = validBody();
    const bodies: (Uint8Array | string)[] = [
      new Uint8Array(0),
      new Uint8Array([1, 2, 3]),
      valid.subarray(0, valid.length - 5),
      '{"queueId":"q","documents":[]}',
      serialize({ documents: [] }),
      serialize({ queueId: "bad id with spaces", documents: [] }),
      serialize({ queueId: "q", documents: "no" }),
      serialize({ queueId: "q", documents: [{ seq: 1.5, table: "WeatherSensor", doc: makeWeatherDoc(1) }] }), // seq a double
      serialize({ queueId: "q", documents: [{ seq: Long.fromNumber(0), table: "WeatherSensor", doc: makeWeatherDoc(1) }] }),
      encodeBatch("q", [
        { seq: 2, table: "WeatherSensor", doc: makeWeatherDoc(1) },
        { seq: 2, table: "WeatherSensor", doc: makeWeatherDoc(2) },
      ]),
      serialize({ queueId: "q", documents: [{ seq: Long.fromNumber(1), table: "WeatherSensor", doc: "not a document" }] }),
    ];
    for (const body of bodies) await expectRefused(400, () => postIngest(server.url, appId, token, body));
  });

  it("503 with Retry-After when too many batches are in flight, writing nothing for the refused one", async () => {
    // The first batch is held 2 s before its commit; the second goes once the server says it has
    // the first ("batch received", logged before the pause), not after a fixed 100 ms, which on a
    // loaded machine could come before the first arrived, or leave too little of a short pause.
    const log = recordLog();
    const busy = await createIngestServer({
      schema: testSchema,
      appId,
      store: server.store,
      logger: log.logger,
      limits: { maxInFlightBatches: 1 },
      testCommitDelayMs: 2000,
    });
    try {
      const login = await loginAnonymous(busy.url, appId);
      const first = postIngest(busy.url, appId, login.access_token, validBody());
      await log.until("batch received");
      const before = await server.store.countRows();
      const second = await postIngest(busy.url, appId, login.access_token, validBody());
      expect(second.status).toBe(503);
      expect(second.headers.get("retry-after")).toBe("1");
      expect((await first).status).toBe(200);
      const after = await server.store.countRows();
      expect(after["WeatherSensor"]).toBe((before["WeatherSensor"] ?? 0) + 1);
    } finally {
      await busy.close();
    }
  });

  it("404 for unknown routes, and /health answers", async () => {
    expect((await callJson(server.url, "GET", "/nope")).status).toBe(404);
    expect(await callJson(server.url, "GET", "/health")).toEqual({ status: 200, json: { status: "ok", store: "sqlite" } });
  });

  it("/health answers 503 with the reason once the store is broken (its SQLite worker stopped)", async () => {
    const reason = "sqlite store: the SQLite worker stopped: it exited with code 1";
    const broken = await createIngestServer({ schema: testSchema, appId, store: { ...server.store, broken: () => reason }, quiet: true });
    try {
      expect(await callJson(broken.url, "GET", "/health")).toEqual({ status: 503, json: { status: "store_failed", store: "sqlite", reason } });
    } finally {
      await broken.close();
    }
  });
});
