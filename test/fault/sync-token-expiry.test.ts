/**
 * Access tokens that live one second, on a device that streams for several: the session
 * refreshes ahead of expiry and, when a token expires in flight, on the server's 401, and never
 * loses or doubles a document. A revoked session mid-stream pauses the upload with the data
 * kept, and a new login carries on.
 */
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import * as path from "node:path";
import { Credentials, SessionExpiredError } from "asymgen";
import type { IngestServer } from "../../server/create-server.js";
import {
  closeAllDevices,
  uploadAll,
  expectedIdKeys,
  ingestRange,
  makeTempDir,
  openDevice,
  readStoredIdKeys,
  removeTempDir,
  startServer,
} from "../e2e/sync-stack.js";

let dir: string;
let server: IngestServer;
let storeUrl: string;

beforeAll(async () => {
  dir = makeTempDir("fault-token");
  storeUrl = `sqlite:${path.join(dir, "ingest.sqlite")}`;
  server = await startServer(storeUrl, { auth: { accessTokenTtlMs: 1000 } });
});

afterAll(async () => {

  closeAllDevices();
  await server?.close();
  removeTempDir(dir);
});

test("one-second access tokens expire mid-stream: refreshed, nothing lost or doubled", async () => {
  const device = await openDevice(server.url, path.join(dir, "device"), { sync: { maxBatchDocuments: 20 } });
  const tokens = new Set<string>();
  device.user.addListener(() => {
    if (device.user.accessToken !== null) tokens.add(device.user.accessToken);
  });
  const total = 1200;
  const started = Date.now();
  // ~4 s of streaming: several token lifetimes.
  for (let start = 1; start <= total; start += 30) {
    ingestRange(device.realm, start, start + 29, 10);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await uploadAll(device, 30_000);
  expect(Date.now() - started).toBeGreaterThan(3000);
  expect(tokens.size).toBeGreaterThanOrEqual(2);
  device.realm.close();
  expect(await readStoredIdKeys(storeUrl)).toEqual(expectedIdKeys(1, total));
  expect(device.errors).toEqual([]);
});

test("a session revoked on the server mid-stream pauses uploading; a new login uploads the rest", async () => {
  const login = Credentials.emailPassword("grace@example.com", "compiler-1952");
  const anonymous = await openDevice(server.url, path.join(dir, "registrar"));
  await anonymous.app.emailPasswordAuth.registerUser({ email: "grace@example.com", password: "compiler-1952" });
  anonymous.realm.close();
  const first = await openDevice(server.url, path.join(dir, "revoked"), { credentials: login, sync: { maxBatchDocuments: 20 } });
  ingestRange(first.realm, 5001, 5100, 10);
  await uploadAll(first, 10_000);
  // Revoke the refresh token behind the device's back (as a logout from elsewhere would).
  const response = await fetch(`${server.url}/api/client/v2.0/auth/session`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${first.user.refreshToken}` },
  });
  expect(response.ok).toBe(true);
  ingestRange(first.realm, 5101, 5300, 10);
  // The server checks every request against the session: revocation takes effect at once, so the
  // very next batch is refused (its access token, then the refresh) and the session is over.
  const deadline = Date.now() + 10_000;
  while (first.realm.syncSession!.state !== "paused" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(first.realm.syncSession!.state).toBe("paused");
  // Not one document written after the revocation got in.
  expect((await readStoredIdKeys(storeUrl)).filter((key) => expectedIdKeys(5101, 5300).includes(key))).toEqual([]);
  expect(first.errors.some((error) => error instanceof SessionExpiredError)).toBe(true);
  expect(first.user.isLoggedIn).toBe(false);
  expect(first.realm.queueStats().pendingDocuments).toBeGreaterThan(0);
  // The same user logs in again: the same User object, so the paused session resumes itself.
  expect(await first.app.logIn(login)).toBe(first.user);
  expect(first.realm.syncSession!.state).toBe("active");
  await uploadAll(first, 10_000);
  first.realm.close();
  const stored = await readStoredIdKeys(storeUrl);
  expect(stored.filter((key) => expectedIdKeys(5001, 5300).includes(key))).toEqual(expectedIdKeys(5001, 5300));
});
