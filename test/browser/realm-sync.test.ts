/**
 * Uploads from the browser, in real Chromium against a real `asymgen serve` (SQLite) over
 * loopback: the owner tab's worker runs the sync session as the user the page logged in, two
 * tabs' documents reach the server and the store holds each once; the logged-in user survives a
 * reload (IndexedDB). The page and the server share one origin through a small proxy
 * (realm-fixture.ts), which also counts and disturbs the page's API traffic; a page on another
 * origin needs `--cors-origin`, tested in the last case here.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { openStore } from "../../server/stores/open-store.js";
import { Reading } from "./pages/realm-model.js";
import { call, startRealmFixture, startSameOriginProxy, type RealmFixture, type SameOriginProxy } from "./realm-fixture.js";
import { ServerProcess } from "../e2e/sync-stack.js";

const fastSync = { initialBackoffMs: 20, maxBackoffMs: 300, requestTimeoutMs: 5_000 };

/** The storage options the upload case runs on: "auto" is OPFS in this Chromium. */
const storages = ["auto", "indexeddb"] as const;

describe("the browser Realm uploading to asymgen serve (real Chromium)", () => {
  let fixture: RealmFixture;
  let server: ServerProcess;
  let proxy: SameOriginProxy;
  let dir: string;
  let storeUrl: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-realm-sync-"));
    const schemaFile = path.join(dir, "schema.json");
    fs.writeFileSync(schemaFile, JSON.stringify([Reading.schema]));
    storeUrl = `sqlite:${path.join(dir, "ingest.sqlite")}`;
    server = await ServerProcess.spawn({ schemaFile, storeUrl });
    fixture = await startRealmFixture();
    proxy = await startSameOriginProxy(fixture.server.origin, server.url);
  });

  afterAll(async () => {
    await fixture?.close();
    await proxy?.close();
    await server?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(storages)("on %s: keeps the user across a reload, and uploads two tabs' documents: the store holds each once", async (storage) => {
    // Each storage's documents have ids of their own (from `base`), so the second run cannot pass on the first one's rows.
    const base = storages.indexOf(storage) * 100_000;
    const browser = await fixture.startBrowser();
    const sync = { appId: "e2e", baseUrl: proxy.origin };
    const first = await fixture.openPage(browser, "/realm.html", proxy.origin);
    const opened = await call<{ role: string; userId: string; loggedInNow: boolean }>(first, "open", { path: "synced", storage, sync, syncOptions: fastSync });
    expect(opened).toMatchObject({ role: "owner", loggedInNow: true });
    expect(await call(first, "storedUsers", "e2e")).toContain(opened.userId);

    // A reload: the page's App finds its user in IndexedDB, no new login.
    await call(first, "close");
    await first.reload();
    await first.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
    const again = await call<{ role: string; userId: string; loggedInNow: boolean }>(first, "open", { path: "synced", storage, sync, syncOptions: fastSync });
    expect(again).toEqual({ role: "owner", persisted: expect.any(Boolean), userId: opened.userId, loggedInNow: false, userAt: expect.any(Number) });

    const second = await fixture.openPage(browser, "/realm.html", proxy.origin);
    expect(await call<{ role: string; userId: string }>(second, "open", { path: "synced", storage, sync, syncOptions: fastSync })).toMatchObject({ role: "follower", userId: opened.userId });

    const txns = 40;
    const perTxn = 10;
    await Promise.all([call(first, "burst", "owner-tab", base / perTxn, txns, perTxn, 4), call(second, "burst", "follower-tab", base / perTxn + txns, txns, perTxn, 4)]);
    // From the follower: forwarded to the owner's session, which answers once the server acknowledged everything.
    expect(await call(second, "uploadAll", 30_000)).toBe(0);
    await second.waitForFunction(() => {
      const s = (window as unknown as { realmTest: { session(): { connection?: string } } }).realmTest.session();
      return s.connection === "connected";
    });

    const store = await openStore(storeUrl);
    try {
      await store.prepare([Reading.schema]);
      // idKey: the _id's canonical Extended JSON, {"$numberLong":"7"}.
      const ids = (await store.readDocuments(Reading.schema.name))
        .map((doc) => Number((JSON.parse(doc.idKey) as { $numberLong: string }).$numberLong))
        .filter((id) => id >= base && id < base + 100_000)
        .sort((a, b) => a - b);
      expect(ids).toEqual(Array.from({ length: 2 * txns * perTxn }, (_, i) => base + i));
    } finally {
      await store.close();
    }
    const stats = await call<{ pendingDocuments: number }>(first, "stats");
    expect(stats.pendingDocuments).toBe(0);

    // The session is one per queue: paused from the follower, it pauses in the owner's worker.
    await call(second, "pause");
    await first.waitForFunction(() => (window as unknown as { realmTest: { session(): { state?: string } } }).realmTest.session().state === "paused");
    await call(second, "resume");
    await first.waitForFunction(() => (window as unknown as { realmTest: { session(): { state?: string } } }).realmTest.session().state === "active");
    // A logout in a follower tab reaches the owner's copy of the user: the session pauses.
    await call(second, "logOut");
    await first.waitForFunction(() => (window as unknown as { realmTest: { session(): { state?: string } } }).realmTest.session().state === "paused");
    for (const tab of [first, second]) await call(tab, "close");
  }, 120_000);

  it("retries at once on the worker's online event instead of waiting out the backoff", async () => {
    const browser = await fixture.startBrowser();
    const tab = await fixture.openPage(browser, "/realm.html", proxy.origin);
    // A backoff far longer than the test waits: only the online event can bring the upload forward.
    const slow = { initialBackoffMs: 60_000, maxBackoffMs: 120_000, requestTimeoutMs: 5_000 };
    await call(tab, "open", { path: "online", sync: { appId: "e2e", baseUrl: proxy.origin }, syncOptions: slow });
    proxy.setApiDown(true);
    await call(tab, "burst", "offline-tab", 500, 5, 10, 1);
    // The first attempt fails (connection dropped) and the session backs off for a minute.
    const deadline = Date.now() + 10_000;
    while (proxy.droppedApiRequests() === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(proxy.droppedApiRequests()).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    proxy.setApiDown(false);
    const worker = tab.workers()[0];
    expect(worker).toBeDefined();
    const started = Date.now();
    // What a browser that fires "online" in workers does when the network comes back (Chromium
    // does not: there the page forwards the window's, realm-faults.test.ts's network case).
    await worker!.evaluate(() => self.dispatchEvent(new Event("online")));
    expect(await call(tab, "uploadAll", 20_000)).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    await call(tab, "close");
  }, 120_000);

  it("a server with --cors-origin answers the page of that origin, and refuses a page of any other: its fetch fails, nothing is stored", async () => {
    const corsDir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-realm-cors-"));
    const schemaFile = path.join(corsDir, "schema.json");
    fs.writeFileSync(schemaFile, JSON.stringify([Reading.schema]));
    const corsStoreUrl = `sqlite:${path.join(corsDir, "ingest.sqlite")}`;
    // Allowed: the page server's origin only. The other origin: the same pages through a proxy on another port.
    const corsServer = await ServerProcess.spawn({ schemaFile, storeUrl: corsStoreUrl, args: ["--cors-origin", fixture.server.origin] });
    const otherOrigin = await startSameOriginProxy(fixture.server.origin, fixture.server.origin);
    try {
      const browser = await fixture.startBrowser();
      const sync = { appId: "e2e", baseUrl: corsServer.url };
      const allowed = await fixture.openPage(browser);
      expect(await call(allowed, "open", { path: "cors", sync, syncOptions: fastSync })).toMatchObject({ role: "owner", loggedInNow: true });
      await call(allowed, "burst", "allowed", 0, 2, 10, 1);
      expect(await call(allowed, "uploadAll", 30_000)).toBe(0);
      await call(allowed, "close");

      const refused = await fixture.openPage(browser, "/realm.html", otherOrigin.origin);
      // Its login is the first request: the browser withholds the answer (no Access-Control-Allow-Origin for this origin).
      const error = await call<{ name: string; message: string } | null>(refused, "openError", { path: "cors", sync, syncOptions: fastSync });
      expect(error?.name).toBe("NetworkError");
      expect(error?.message).toContain(corsServer.url);
      // An upload straight from that page fails the same way, before the server's answer reaches it.
      const upload = await refused.evaluate(
        (url) => fetch(url, { method: "POST", headers: { "content-type": "application/bson" }, body: new Uint8Array(5) }).then((answer) => `HTTP ${answer.status}`, (e: Error) => e.name),
        `${corsServer.url}/api/client/v2.0/app/e2e/ingest`,
      );
      expect(upload).toBe("TypeError");

      const store = await openStore(corsStoreUrl);
      try {
        await store.prepare([Reading.schema]);
        const ids = (await store.readDocuments(Reading.schema.name)).map((doc) => Number((JSON.parse(doc.idKey) as { $numberLong: string }).$numberLong)).sort((a, b) => a - b);
        expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => i));
      } finally {
        await store.close();
      }
    } finally {
      await otherOrigin.close();
      await corsServer.kill();
      fs.rmSync(corsDir, { recursive: true, force: true });
    }
  }, 120_000);
});
