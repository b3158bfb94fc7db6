/**
 * A device whose user the server no longer knows: its session record deleted from the store (as
 * an admin, a sweep or a revocation would), or the server restarted on a fresh store. The device
 * hears it once through onError (a SessionExpiredError naming the server's answer), its user is
 * logged out and its tokens leave users.json, uploading stops, a pending uploadAllLocalChanges
 * fails at once with the same error, and the queued documents stay on disk: after a new login,
 * the app opens the same queue path again and every document reaches the store exactly once.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "@jest/globals";
import * as fs from "node:fs";
import * as path from "node:path";
import { SessionExpiredError, SyncError } from "asymgen";
import type { IngestServer } from "../../server/create-server.js";
import {
  closeAllDevices,
  expectedIdKeys,
  ingestRange,
  makeTempDir,
  openDevice,
  readStoredIdKeys,
  removeTempDir,
  startServer,
  uploadAll,
  type Device,
} from "../e2e/sync-stack.js";

let dir: string;

beforeAll(() => {
  dir = makeTempDir("fault-unknown-user");
});

afterEach(() => closeAllDevices());

afterAll(() => removeTempDir(dir));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

/** The users.json record of `userId` as the device's app wrote it. */
function savedRecord(device: Device, userId: string): { refreshToken: string | null; accessToken: string | null } | undefined {
  const file = JSON.parse(fs.readFileSync(path.join(device.dir, "app", "users.json"), "utf8")) as {
    users: { id: string; refreshToken: string | null; accessToken: string | null }[];
  };
  return file.users.find((user) => user.id === userId);
}

/**
 * Ingests `from..to` after the server forgot the user, and checks what the device does: one
 * typed error, the user logged out on disk, no upload, a waiter failed at once, the data kept.
 */
async function expectForgottenUserHandled(device: Device, storeUrl: string, from: number, to: number, waitAfterPause: boolean): Promise<void> {
  const session = device.realm.syncSession!;
  const userId = device.user.id;
  ingestRange(device.realm, from, to, 50);
  // A wait begun before the refusal fails with it; one begun after fails at once.
  if (waitAfterPause) await waitUntil(() => session.state === "paused", "the session pauses");
  const started = Date.now();
  const waited = await session.uploadAllLocalChanges(30_000).then(
    () => null,
    (error: unknown) => error,
  );
  // Not the 30 s timeout: the wait ends with the session.
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(waited).toBeInstanceOf(SessionExpiredError);
  await waitUntil(() => session.state === "paused", "the session pauses");
  // Backoff here is 20-300 ms: a retry loop would have reported again within a second.
  await sleep(1000);
  expect(device.errors.map((error) => error.name)).toEqual(["SessionExpiredError"]);
  const [reported] = device.errors;
  expect(reported).toBe(waited);
  expect(reported).toMatchObject({ statusCode: 401, serverCode: "InvalidSession" });
  expect(reported!.message).toMatch(/the server refused the refresh token \(HTTP 401 InvalidSession: invalid session: .+\)/);
  expect(session.state).toBe("paused");
  expect(device.user.state).toBe("LoggedOut");
  expect(device.app.currentUser).toBeNull();
  expect(savedRecord(device, userId)).toMatchObject({ refreshToken: null, accessToken: null });
  // Nothing written after the server forgot the user is stored, and all of it is still queued.
  const stored = new Set(await readStoredIdKeys(storeUrl));
  expect(expectedIdKeys(from, to).filter((key) => stored.has(key))).toEqual([]);
  expect(device.realm.queueStats().pendingDocuments).toBe(to - from + 1);
}

/** Logs in again (a new anonymous user), reopens the same queue path and uploads everything. */
async function reopenAndUpload(device: Device, baseUrl: string, storeUrl: string, total: number): Promise<void> {
  device.realm.close();
  const again = await openDevice(baseUrl, device.dir);
  expect(again.user.id).not.toBe(device.user.id);
  await uploadAll(again, 20_000);
  // The queue first uploaded as the forgotten user: it takes a new id for the new one, once.
  expect(again.errors.filter((error) => !(error instanceof SyncError && error.code === "queue_id_rotated"))).toEqual([]);
  expect(again.realm.queueStats().pendingDocuments).toBe(0);
  again.realm.close();
  expect(await readStoredIdKeys(storeUrl)).toEqual(expectedIdKeys(1, total));
}

test("the user's session deleted from the store: onError once, logged out, nothing lost", async () => {
  const storeUrl = `sqlite:${path.join(dir, "deleted-session.sqlite")}`;
  const server: IngestServer = await startServer(storeUrl);
  try {
    const device = await openDevice(server.url, path.join(dir, "deleted-session"));
    ingestRange(device.realm, 1, 100, 50);
    await uploadAll(device, 10_000);
    // What an admin tool, a session sweep or a store cleanup does behind the device's back.
    const sessionId = device.user.refreshToken!.split(".")[0]!;
    expect(await server.store.deleteAuthRecord("session", sessionId)).toBe(true);
    await expectForgottenUserHandled(device, storeUrl, 101, 300, false);
    await reopenAndUpload(device, server.url, storeUrl, 300);
  } finally {
    await server.close();
  }
});

test("the server restarted on a fresh store (new signing secret, no users): the same, and the data reaches the new store", async () => {
  const firstStore = `sqlite:${path.join(dir, "before-reset.sqlite")}`;
  const first = await startServer(firstStore);
  const port = first.port;
  const device = await openDevice(first.url, path.join(dir, "reset"));
  ingestRange(device.realm, 1, 100, 50);
  await uploadAll(device, 10_000);
  await first.close();
  const freshStore = `sqlite:${path.join(dir, "after-reset.sqlite")}`;
  const fresh = await startServer(freshStore, { port });
  try {
    await expectForgottenUserHandled(device, freshStore, 101, 250, true);
    // The fresh store never saw 1..100; the queue acknowledged them already, so it sends the rest.
    device.realm.close();
    const again = await openDevice(fresh.url, device.dir);
    await uploadAll(again, 20_000);
    again.realm.close();
    expect(await readStoredIdKeys(freshStore)).toEqual(expectedIdKeys(101, 250));
  } finally {
    await fresh.close();
  }
});
