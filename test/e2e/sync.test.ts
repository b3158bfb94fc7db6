/**
 * End to end over real HTTP on loopback: App + Realm + sync session → ingest server → store.
 * One suite, run on every store that is reachable (SQLite always; PostgreSQL and MongoDB when
 * available, skipped with a visible message otherwise).
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import * as fs from "node:fs";
import * as path from "node:path";
import { App, AuthError, Credentials, DocumentRejectedError, Realm, SessionExpiredError } from "asymgen";
import { WeatherSensor } from "../../examples/weather/models.realm.js";
import type { IngestServer } from "../../server/create-server.js";
import { createApiKey } from "../../server/auth/auth-service.js";
import { signHs256 } from "../../server/auth/jwt.js";
import {
  closeAllDevices,
  fastSync,
  syncModels,
  type Device,
  uploadAll,
  expectedIdKeys,
  ingestRange,
  makeDocument,
  makeTempDir,
  openStoreForReading,
  openDevice,
  readStoredIdKeys,
  removeTempDir,
  startServer,
  syncSchema,
  syncTable,
} from "./sync-stack.js";
import { describeStores } from "./store-matrix.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import { freshTimes } from "../support/sign-test-jwt.js";
import { SyncError } from "../../runtime/sync/sync-error.js";

const jwtSecret = "e2e-custom-jwt-secret-of-at-least-32-bytes";

describeStores("sync end to end", (store) => {
  let dir: string;
  let storeUrl: string;
  let server: IngestServer;

  beforeAll(async () => {
    dir = makeTempDir("e2e");
    storeUrl = await store.create(dir);
    server = await startServer(storeUrl, { auth: { customToken: { algorithm: "HS256", secret: jwtSecret } } });
  });

  afterAll(async () => {

    closeAllDevices();
    await server?.close();
    await store.drop();
    removeTempDir(dir);
  });

  /** Ids are unique per test: every test ingests its own range into the shared store. */
  test("a device's documents arrive exactly once, with its user id, and the queue empties", async () => {
    const device = await openDevice(server.url, path.join(dir, "one"));
    const progress: [number, number][] = [];
    const session = device.realm.syncSession!;
    session.addProgressNotification("upload", (transferred, transferable) => progress.push([transferred, transferable]));
    ingestRange(device.realm, 1, 500, 25);
    await uploadAll(device, 20_000);
    expect(device.realm.queueStats().pendingDocuments).toBe(0);
    expect(progress[progress.length - 1]).toEqual([500, 500]);
    expect(session.connectionState).toBe("connected");
    expect(session.state).toBe("active");
    device.realm.close();
    const stored = await openStoreForReading(storeUrl);
    try {
      const docs = (await stored.readDocuments(syncTable)).filter((doc) => doc.queueId !== "");
      const mine = docs.filter((doc) => doc.userId === device.user.id);
      expect(mine.map((doc) => doc.idKey).sort()).toEqual(expectedIdKeys(1, 500));
      const one = JSON.parse(mine[0]!.ejson) as Record<string, unknown>;
      expect(one["deviceId"]).toBe("device-1");
      expect(one["location"]).toEqual({
        latitude: { $numberDouble: "47.6" },
        longitude: { $numberDouble: "-122.3" },
        elevationInFeet: { $numberLong: "180" },
      });
      expect(one["tags"]).toEqual(["e2e"]);
    } finally {
      await stored.close();
    }
    expect(device.errors).toEqual([]);
  });

  test("five devices with email/password, API-key, custom JWT and anonymous users upload concurrently", async () => {
    const admin = await openStoreForReading(storeUrl);
    const { key } = await createApiKey(admin, "e2e-key");
    await admin.close();
    const first = await openDevice(server.url, path.join(dir, "multi-0"), { credentials: Credentials.anonymous() });
    const register = first.app.emailPasswordAuth;
    await register.registerUser({ email: "ada@example.com", password: "analytical-engine" });
    const devices = [
      first,
      await openDevice(server.url, path.join(dir, "multi-1"), { credentials: Credentials.emailPassword("ada@example.com", "analytical-engine") }),
      await openDevice(server.url, path.join(dir, "multi-2"), { credentials: Credentials.apiKey(key) }),
      await openDevice(server.url, path.join(dir, "multi-3"), { credentials: Credentials.anonymous() }),
      await openDevice(server.url, path.join(dir, "multi-4"), {
        credentials: Credentials.jwt(signHs256({ sub: "sensor-77", ...freshTimes() }, jwtSecret)),
      }),
    ];
    expect(devices.map((d) => d.user.providerType)).toEqual(["anon-user", "local-userpass", "api-key", "anon-user", "custom-token"]);
    expect(new Set(devices.map((d) => d.user.id)).size).toBe(5);
    devices.forEach((device, i) => ingestRange(device.realm, 10_000 + i * 1000, 10_000 + i * 1000 + 299, 30, `device-${i}`));
    await Promise.all(devices.map((device) => uploadAll(device, 30_000)));
    for (const device of devices) device.realm.close();
    const stored = await readStoredIdKeys(storeUrl);
    for (let i = 0; i < devices.length; i++) {
      const keys = expectedIdKeys(10_000 + i * 1000, 10_000 + i * 1000 + 299);
      expect(keys.every((k) => stored.includes(k))).toBe(true);
    }
    expect(devices.flatMap((d) => d.errors)).toEqual([]);
  });

  test("bad logins are typed errors: wrong password (401), unknown app id (404), taken email", async () => {
    const app = new App({ id: "e2e", baseUrl: server.url, baseFilePath: path.join(dir, "bad-login") });
    await app.emailPasswordAuth.registerUser({ email: "bob@example.com", password: "hunter22-long" });
    await expect(app.emailPasswordAuth.registerUser({ email: "bob@example.com", password: "hunter22-long" })).rejects.toBeInstanceOf(AuthError);
    await expect(app.logIn(Credentials.emailPassword("bob@example.com", "wrong-password"))).rejects.toMatchObject({ statusCode: 401 });
    const elsewhere = new App({ id: "no-such-app", baseUrl: server.url, baseFilePath: path.join(dir, "bad-app") });
    await expect(elsewhere.logIn(Credentials.anonymous())).rejects.toMatchObject({ statusCode: 404 });
    expect(app.currentUser).toBeNull();
  });

  test("a restarted app resumes its user and its queue without logging in again", async () => {
    const deviceDir = path.join(dir, "restart");
    const before = await openDevice(server.url, deviceDir);
    before.realm.syncSession!.pause();
    ingestRange(before.realm, 20_001, 20_200, 20);
    const userId = before.user.id;
    before.realm.close();
    const after = await openDevice(server.url, deviceDir, { credentials: Credentials.emailPassword("nobody@example.com", "never-used") });
    expect(after.user.id).toBe(userId);
    expect(after.realm.queueStats().pendingDocuments).toBe(200);
    await uploadAll(after, 20_000);
    after.realm.close();
    const stored = await readStoredIdKeys(storeUrl);
    expect(stored.filter((k) => expectedIdKeys(20_001, 20_200).includes(k)).length).toBe(200);
  });

  test("logging out pauses uploading and keeps the queue; logging in again uploads it", async () => {
    const device = await openDevice(server.url, path.join(dir, "logout"), { credentials: Credentials.emailPassword("ada@example.com", "analytical-engine") });
    const session = device.realm.syncSession!;
    await device.user.logOut();
    expect(session.state).toBe("paused");
    ingestRange(device.realm, 30_001, 30_100, 10);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(device.realm.queueStats().pendingDocuments).toBe(100);
    // The old refresh token is revoked on the server.
    await expect(device.user.refreshAccessToken()).rejects.toBeInstanceOf(SessionExpiredError);
    await device.app.logIn(Credentials.emailPassword("ada@example.com", "analytical-engine"));
    expect(session.state).toBe("active");
    await uploadAll(device, 20_000);
    device.realm.close();
    const stored = await readStoredIdKeys(storeUrl);
    expect(stored.filter((k) => expectedIdKeys(30_001, 30_100).includes(k)).length).toBe(100);
  });
});

describe("batch limits against the real server (SQLite)", () => {
  test("413 splits batches until they fit; a document larger than the byte limit is reported and skipped", async () => {
    const dir = makeTempDir("e2e-limits");
    const storeUrl = `sqlite:${path.join(dir, "ingest.sqlite")}`;
    const server = await startServer(storeUrl, { limits: { maxBatchDocuments: 10, maxBatchBytes: 64 * 1024 } });
    try {
      const device = await openDevice(server.url, path.join(dir, "device"));
      ingestRange(device.realm, 1, 300, 100);
      const seq = device.realm.write(() => device.realm.ingest(WeatherSensor, { ...makeDocument(301), notes: "x".repeat(100 * 1024) }));
      ingestRange(device.realm, 302, 320, 19);
      await uploadAll(device, 30_000);
      device.realm.close();
      expect(device.errors.map((error) => [(error as DocumentRejectedError).seq, (error as DocumentRejectedError).reasonCode])).toEqual([
        [seq, "document_too_large"],
      ]);
      const expected = expectedIdKeys(1, 320).filter((key) => key !== expectedIdKeys(301, 301)[0]);
      expect(await readStoredIdKeys(storeUrl)).toEqual(expected);
    } finally {
      closeAllDevices();
      await server.close();
      removeTempDir(dir);
    }
  });
});

describe("protocol refusals against the real server (SQLite)", () => {
  test("400 UnknownTable (a server without the model) keeps the data; once the server knows the table, it uploads", async () => {
    const dir = makeTempDir("e2e-unknown-table");
    const storeUrl = `sqlite:${path.join(dir, "ingest.sqlite")}`;
    // An older server: its schema has no WeatherSensor.
    let server = await startServer(storeUrl, { schema: syncSchema.filter((model) => model.name !== syncTable) });
    const proxy = await TcpProxy.start(server.port);
    try {
      const device = await openDevice(proxy.url, path.join(dir, "device"));
      ingestRange(device.realm, 1, 120, 40);
      const deadline = Date.now() + 10_000;
      while (device.errors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      // Several retries later: still one report, nothing deleted, nothing stored.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(device.errors).toHaveLength(1);
      expect(device.errors[0]).toBeInstanceOf(SyncError);
      expect(device.errors[0]).toMatchObject({ code: "unknown_table", statusCode: 400, serverCode: "UnknownTable" });
      expect(device.realm.queueStats().pendingDocuments).toBe(120);
      expect(device.realm.syncSession!.state).toBe("active");
      // The server is upgraded: same store, the fuller schema.
      await server.close();
      server = await startServer(storeUrl);
      proxy.retarget(server.port);
      await uploadAll(device, 20_000);
      device.realm.close();
      expect(await readStoredIdKeys(storeUrl)).toEqual(expectedIdKeys(1, 120));
      expect(device.errors).toHaveLength(1);
    } finally {
      closeAllDevices();
      await proxy.close();
      await server.close();
      removeTempDir(dir);
    }
  });
});

describe("a queue that changes users (SQLite)", () => {
  test("403 QueueOwnedByAnotherUser: the queue takes a new id and re-sends; every document stored once", async () => {
    const dir = makeTempDir("e2e-new-user");
    const storeUrl = `sqlite:${path.join(dir, "ingest.sqlite")}`;
    const server = await startServer(storeUrl);
    const queueDir = path.join(dir, "a", "queue");
    try {
      // User A uploads 1..100.
      const a = await openDevice(server.url, path.join(dir, "a"));
      ingestRange(a.realm, 1, 100, 25);
      await uploadAll(a, 20_000);
      const userA = a.user.id;
      a.realm.close();
      const oldQueueId = (JSON.parse(fs.readFileSync(path.join(queueDir, "queue.json"), "utf8")) as { queueId: string }).queueId;
      // The acknowledgement cursor never reached the disk (a crash): 1..100 are re-sent later.
      fs.rmSync(path.join(queueDir, "ack"));
      // The device logs in again as a NEW user B (e.g. anonymous after A's session expired), same queue.
      const appB = new App({ id: "e2e", baseUrl: server.url, baseFilePath: path.join(dir, "b", "app") });
      const userB = await appB.logIn(Credentials.anonymous());
      expect(userB.id).not.toBe(userA);
      const errors: Error[] = [];
      const realm = await Realm.open({
        schema: [...syncModels],
        path: queueDir,
        durability: "os",
        sync: { user: userB, flexible: true, onError: (_s, error) => errors.push(error), ...fastSync },
      });
      const b: Device = { app: appB, user: userB, realm, errors, dir: path.join(dir, "b") };
      ingestRange(realm, 101, 150, 25);
      await uploadAll(b, 20_000);
      expect(realm.queueStats().pendingDocuments).toBe(0);
      realm.close();
      expect(errors.map((e) => (e as SyncError).code)).toEqual(["queue_id_rotated"]);
      const newQueueId = (JSON.parse(fs.readFileSync(path.join(queueDir, "queue.json"), "utf8")) as { queueId: string }).queueId;
      expect(newQueueId).not.toBe(oldQueueId);
      // Each document once: 1..100 as A (re-sent identically under the new id: accepted, not stored again), 101..150 as B.
      const store = await openStoreForReading(storeUrl);
      try {
        const docs = await store.readDocuments(syncTable);
        expect(docs.map((doc) => doc.idKey).sort()).toEqual(expectedIdKeys(1, 150));
        expect(docs.filter((doc) => doc.userId === userA).length).toBe(100);
        expect(docs.filter((doc) => doc.userId === userB.id).map((doc) => doc.idKey).sort()).toEqual(expectedIdKeys(101, 150));
        expect((await store.readQueue(newQueueId))?.highSeq).toBe(150n);
      } finally {
        await store.close();
      }
      // The rotated queue opens again (segments written under the old id included).
      const reopened = await Realm.open({ schema: [...syncModels], path: queueDir, durability: "os" });
      expect(reopened.queueStats().pendingDocuments).toBe(0);
      reopened.close();
    } finally {
      closeAllDevices();
      await server.close();
      removeTempDir(dir);
    }
  });
});
