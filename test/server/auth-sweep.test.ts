/**
 * The store must not grow without bound: expired sessions and anonymous users whose session has
 * expired are deleted by the sweep (at start and on a timer), a logged-out anonymous user at once,
 * and live ones are kept. On every store.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { sweepAuthRecords } from "../../server/auth/auth-sweeper.js";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import { openStore } from "../../server/stores/open-store.js";
import type { IngestStore } from "../../server/stores/store.js";
import { describeStores } from "../e2e/store-matrix.js";
import { callJson, loginAnonymous, testSchema } from "../support/ingest-server-fixtures.js";

const appId = "auth-sweep-app";
const provider = (name: string, action = "login") => `/api/client/v2.0/app/${appId}/auth/providers/${name}/${action}`;
const hour = 3_600_000;
const password = "correct horse battery";

describeStores("auth sweep", (testStore) => {
  let dir: string;
  let store: IngestStore;
  // Two servers on one store: sessions of 30 minutes and of 60 days.
  let shortLived: IngestServer;
  let longLived: IngestServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-auth-sweep-"));
    store = await openStore(await testStore.create(dir));
    const common = { schema: testSchema, appId, store, quiet: true, authSweepIntervalMs: 0 };
    shortLived = await createIngestServer({ ...common, auth: { refreshTokenTtlMs: 30 * 60_000 } });
    longLived = await createIngestServer(common);
  });
  afterAll(async () => {
    await shortLived?.close();
    await longLived?.close();
    await store?.close();
    await testStore.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const keysOf = async (kind: string) => (await store.listAuthRecords(kind, "", 10_000)).map((record) => record.key);

  it("deletes expired sessions and expired anonymous users, and keeps live ones", async () => {
    const expiringAnon = await loginAnonymous(shortLived.url, appId);
    const liveAnon = await loginAnonymous(longLived.url, appId);
    expect((await callJson(shortLived.url, "POST", provider("local-userpass", "register"), { body: { email: "ada@example.com", password } })).status).toBe(201);
    const userpass = await callJson(shortLived.url, "POST", provider("local-userpass"), { body: { username: "ada@example.com", password } });
    const userpassId = userpass.json["user_id"] as string;
    const sessionOf = (refreshToken: unknown) => String(refreshToken).split(".")[0] ?? "";

    // Now nothing has expired: the sweep deletes nothing.
    expect(await sweepAuthRecords(store)).toMatchObject({ sessions: 0, anonymousUsers: 0 });

    // An hour from now the 30-minute sessions have expired.
    const result = await sweepAuthRecords(store, () => Date.now() + hour);
    expect(result).toMatchObject({ sessions: 2, anonymousUsers: 1 });
    const sessions = await keysOf("session");
    expect(sessions).not.toContain(sessionOf(expiringAnon.refresh_token));
    expect(sessions).not.toContain(sessionOf(userpass.json["refresh_token"]));
    expect(sessions).toContain(sessionOf(liveAnon.refresh_token));
    const users = await keysOf("user");
    expect(users).not.toContain(expiringAnon.user_id);
    expect(users).toContain(liveAnon.user_id);
    // A user who can log in again is kept without a session, and can.
    expect(users).toContain(userpassId);
    expect((await callJson(longLived.url, "POST", provider("local-userpass"), { body: { username: "ada@example.com", password } })).json["user_id"]).toBe(userpassId);
    expect((await callJson(longLived.url, "GET", "/api/client/v2.0/auth/profile", { token: liveAnon.access_token })).status).toBe(200);

    // A second sweep, or another server's sweep at the same time, only repeats the deletes.
    const again = await Promise.all([sweepAuthRecords(store, () => Date.now() + hour), sweepAuthRecords(store, () => Date.now() + hour)]);
    expect(again.map((r) => r.sessions + r.anonymousUsers)).toEqual([0, 0]);
  });

  it("deletes an anonymous user when it logs out", async () => {
    const anon = await loginAnonymous(longLived.url, appId);
    expect(await keysOf("user")).toContain(anon.user_id);
    const logout = await fetch(`${longLived.url}/api/client/v2.0/auth/session`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${anon.refresh_token}` },
    });
    expect(logout.status).toBe(204);
    expect(await keysOf("user")).not.toContain(anon.user_id);
  });

  it("sweeps at start", async () => {
    await putDeadAnonymous("start");
    // An hour between sweeps: only the sweep at start can delete these within the test.
    const swept = await createIngestServer({ schema: testSchema, appId, store, quiet: true, authSweepIntervalMs: hour });
    try {
      await waitFor(async () => !(await keysOf("session")).includes("dead-session-start"));
      await waitFor(async () => !(await keysOf("user")).includes("dead-anon-start"));
    } finally {
      await swept.close();
    }
  });

  it("sweeps on its timer", async () => {
    await putDeadAnonymous("first");
    const swept = await createIngestServer({ schema: testSchema, appId, store, quiet: true, authSweepIntervalMs: 100 });
    try {
      // Once a sweep has deleted the user (its last step), that sweep is past the sessions.
      await waitFor(async () => !(await keysOf("user")).includes("dead-anon-first"));
      await putDeadAnonymous("later");
      await waitFor(async () => !(await keysOf("session")).includes("dead-session-later"));
      await waitFor(async () => !(await keysOf("user")).includes("dead-anon-later"));
    } finally {
      await swept.close();
    }
  });

  /** Stores an anonymous user and its session, both expired a second ago. */
  async function putDeadAnonymous(name: string): Promise<void> {
    const past = Date.now() - 1000;
    const session = JSON.stringify({ userId: `dead-anon-${name}`, tokenHash: "00", expiresAt: past });
    const user = JSON.stringify({
      id: `dead-anon-${name}`,
      identities: [{ id: `x-${name}`, provider_type: "anon-user" }],
      data: {},
      createdAt: new Date(past - hour).toISOString(),
      expiresAt: past,
    });
    await store.putAuthRecord("session", `dead-session-${name}`, session, false);
    await store.putAuthRecord("user", `dead-anon-${name}`, user, false);
  }
});

/** Polls `check` every 20 ms for up to 5 s. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the sweep");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
