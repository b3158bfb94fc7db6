/**
 * The logged-in user survives a crash right after the login (issue 13: "the logged-in user kept
 * across reloads"), in real Chromium against a real `asymgen serve`: the page logs in, writes a
 * transaction, and the browser's whole process group is SIGKILLed well before the 5 s after the
 * login that localStorage takes to reach disk (within a second on an idle machine); started again on the same profile, the page finds the same user and the transaction
 * uploads under it, checked in the server's store (which records the uploading user per row).
 * With the users in localStorage, which Chromium writes to disk about 5 s after a change, the
 * restart logged in a new anonymous user and the data landed under it.
 *
 * Also: users an older asymgen left in localStorage move to IndexedDB once; a logout resolves once
 * IndexedDB has it; localStorage keeps them where IndexedDB is missing; `app.currentUser` before
 * the users are read is a clear error.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { call, startRealmFixture, type RealmFixture } from "./realm-fixture.js";
import { fastSync, startFaultServer, storageKinds, type FaultServer } from "./realm-faults-support.js";
import { startChromium, type RunningChromium } from "./support/chromium.js";

interface Opened {
  role: string;
  userId: string;
  loggedInNow: boolean;
  /** When (page clock, the machine's) the login or the kept user's load resolved. */
  userAt: number;
}

/**
 * The kill must come this soon after the login resolved (localStorage needed ~5 s to reach disk,
 * so a user kept there would be lost). Under that, with room for a loaded 2-core machine, where
 * the steps between the login and the kill (a write made durable) took 1.8-2.6 s, not under 1 s.
 */
const KILL_WITHIN_MS = 4_000;

describe("the logged-in user in the browser (real Chromium, real asymgen serve)", () => {
  let fixture: RealmFixture;
  let api: FaultServer;
  const dirs: string[] = [];
  const running: RunningChromium[] = [];

  beforeAll(async () => {
    fixture = await startRealmFixture();
    api = await startFaultServer(fixture.server.origin);
  }, 60_000);

  afterEach(() => {
    // A test that failed between taking the API down and bringing it back must not fail the next.
    api?.proxy.setApiDown(false);
  });

  afterAll(async () => {
    for (const browser of running) await browser.close();
    await fixture?.close();
    await api?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Chromium on profile `dir`, with the test page open on the proxy's origin (the server's too). */
  async function start(dir: string) {
    const browser = await startChromium(dir);
    running.push(browser);
    const page = await fixture.openPage(browser, "/realm.html", api.proxy.origin);
    return { browser, page };
  }

  it.each(storageKinds)(
    "survives a SIGKILL right after the login: the restart finds the same user and uploads under it (queue on %s)",
    async (storage) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `asymgen-login-crash-${storage}-`));
      dirs.push(dir);
      // "e2e": the app id the fault server runs with; each kind has a profile (an origin's storage) of its own.
      const open = { path: "login-crash", storage, sync: { appId: "e2e", baseUrl: api.proxy.origin }, syncOptions: fastSync };
      const first = await start(dir);
      const opened = await call<Opened>(first.page, "open", open);
      expect(opened).toMatchObject({ role: "owner", loggedInNow: true });
      // Nothing may reach the server before the kill: the restarted browser must upload it, as the kept user.
      api.proxy.setApiDown(true);
      const firstId = storage === "opfs" ? 10_000 : 20_000;
      await call(first.page, "writeAsync", `before-kill-${storage}`, firstId, 5);
      const killedAt = Date.now();
      await first.browser.kill();
      running.splice(running.indexOf(first.browser), 1);
      const sinceLogin = killedAt - opened.userAt;
      console.log(`${storage}: SIGKILL ${sinceLogin} ms after logIn resolved`);
      expect(sinceLogin).toBeLessThan(KILL_WITHIN_MS);
      api.proxy.setApiDown(false);

      const second = await start(dir);
      expect(await call<Opened>(second.page, "open", open)).toMatchObject({ role: "owner", userId: opened.userId, loggedInNow: false });
      expect(await call(second.page, "uploadAll", 30_000)).toBe(0);
      await call(second.page, "close");
      const stored = (await api.readStored()).filter((row) => row.id >= firstId && row.id < firstId + 5);
      expect(stored.map((row) => [row.id, row.userId])).toEqual(Array.from({ length: 5 }, (_, i) => [firstId + i, opened.userId]));
      await second.browser.close();
      running.splice(running.indexOf(second.browser), 1);
    },
    60_000,
  );

  it("moves users an older asymgen kept in localStorage to IndexedDB once, and persists a logout before it resolves", async () => {
    const browser = await fixture.startBrowser();
    const tab = await fixture.openPage(browser, "/realm.html", api.proxy.origin);
    const sync = { appId: "e2e", baseUrl: api.proxy.origin };
    const opened = await call<Opened>(tab, "open", { path: "legacy", sync, syncOptions: fastSync });
    expect(opened.loggedInNow).toBe(true);
    expect(JSON.parse(await call<string>(tab, "storedUsers", "e2e"))).toMatchObject({ currentUserId: opened.userId });
    expect(await call(tab, "legacyUsers", "e2e")).toBeNull();
    await call(tab, "close");

    // The page as the older version left it: the users under the old localStorage key only.
    await call(tab, "moveUsersToLocalStorage", "e2e");
    expect(await call(tab, "storedUsers", "e2e")).toBe("null");
    expect(await call(tab, "legacyUsers", "e2e")).toContain(opened.userId);
    await tab.reload();
    await tab.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    expect(await call<Opened>(tab, "open", { path: "legacy", sync, syncOptions: fastSync })).toMatchObject({ userId: opened.userId, loggedInNow: false });
    expect(JSON.parse(await call<string>(tab, "storedUsers", "e2e"))).toMatchObject({ currentUserId: opened.userId });
    // Removed once copied: the refresh token is not left in localStorage.
    expect(await call(tab, "legacyUsers", "e2e")).toBeNull();

    // logOut resolves once IndexedDB holds the logged-out user (no tokens).
    await call(tab, "logOut");
    const after = JSON.parse(await call<string>(tab, "storedUsers", "e2e")) as { users: { id: string; refreshToken: string | null; accessToken: string | null }[] };
    expect(after.users).toEqual([expect.objectContaining({ id: opened.userId, refreshToken: null, accessToken: null })]);
    await call(tab, "close");
  }, 60_000);

  it("keeps the users in localStorage where IndexedDB is missing", async () => {
    const browser = await fixture.startBrowser();
    const tab = await fixture.openPage(browser, "/realm.html", api.proxy.origin);
    const result = await call<{ userId: string; legacy: string | null }>(tab, "logInWithoutIndexedDb", "e2e", api.proxy.origin);
    expect(JSON.parse(result.legacy ?? "null")).toMatchObject({ currentUserId: result.userId });
    expect(await call(tab, "storedUsers", "e2e")).toBe("null");
  }, 60_000);

  it("refuses app.currentUser before the users are read, naming App.open", async () => {
    const browser = await fixture.startBrowser();
    const tab = await fixture.openPage(browser, "/realm.html", api.proxy.origin);
    const error = await call<{ name: string; message: string } | null>(tab, "currentUserTooEarly", "early", api.proxy.origin);
    expect(error).toMatchObject({ name: "AsymgenError", message: expect.stringContaining("await App.open(config)") });
    expect(error!.message).toContain("indexedDB:asymgen-users/early");
  }, 60_000);
});
