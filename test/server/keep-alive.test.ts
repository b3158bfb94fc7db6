/**
 * Idle keep-alive connections: the server keeps one open longer than clients keep theirs (Node's
 * agent and undici's fetch idle 4–5 s), so a client never reuses a connection the server is
 * closing (a reset, which failed logins and uploads on a loaded machine). Real HTTP on loopback.
 */
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { KEEP_ALIVE_TIMEOUT_MS, createIngestServer, type IngestServer } from "../../server/create-server.js";
import { testSchema } from "../support/ingest-server-fixtures.js";

describe("keep-alive", () => {
  let dir: string;
  let server: IngestServer;
  // An agent that keeps its idle sockets longer than the server's default (5 s) would.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, timeout: 60_000 });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-keep-alive-"));
    server = await createIngestServer({ schema: testSchema, appId: "keep-alive-app", store: `sqlite:${path.join(dir, "ingest.sqlite")}`, quiet: true });
  });
  afterAll(async () => {
    agent.destroy();
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function getHealth(): Promise<{ status: number; keepAlive: string | string[] | undefined; reused: boolean }> {
    return new Promise((resolve, reject) => {
      const request = http.get(`${server.url}/health`, { agent }, (response) => {
        response.resume().on("end", () => resolve({ status: response.statusCode ?? 0, keepAlive: response.headers["keep-alive"], reused: request.reusedSocket }));
      });
      request.on("error", reject);
    });
  }

  it("announces its idle timeout and keeps an idle connection past the clients' 5 s", async () => {
    const first = await getHealth();
    expect(first).toMatchObject({ status: 200, reused: false });
    expect(first.keepAlive).toBe(`timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThanOrEqual(15_000);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    // With Node's default (5 s) the server would have closed it: this request would open another.
    expect(await getHealth()).toMatchObject({ status: 200, reused: true });
  }, 30_000);
});
