/**
 * The browser Realm SIGKILLed mid-burst, end to end (issue 13), on OPFS and on IndexedDB: a page
 * writes `writeAsync` bursts while its session uploads to a real `asymgen serve` (SQLite, over
 * loopback through the same-origin proxy); Chromium's whole process group is SIGKILLed at a
 * seeded moment and started again on the same profile; the page reopens the Realm (same path, the
 * user kept in IndexedDB), and the next burst begins. The first kill lands within a second or so
 * of the login, which the user survives (realm-login-crash.test.ts checks that alone). After the
 * last kill the session uploads everything, and the server's store must hold every transaction
 * the page was answered durable, each document once and exactly as written, no transaction
 * partially, all under the one user, and, per run, a prefix of what was written (one tab's owner
 * makes its transactions durable in order).
 *
 * Seeded: the seed is printed; ASYMGEN_BROWSER_SEED replays a run, ASYMGEN_BROWSER_SWEEP=1 runs
 * 40 kills per store kind instead of 10.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createSeededRandom } from "../support/seeded-random.mjs";
import { call, startRealmFixture, type RealmFixture } from "./realm-fixture.js";
import { ACK_DURABLE_WITHIN_MS, checkStored, checkUploadsAfterKills, collectOutcomes, expectPrefix, fastSync, startFaultServer, storageKinds, TXN_STRIDE, waitUntil, type FaultServer, type Outcome } from "./realm-faults-support.js";
import { startChromium, type RunningChromium } from "./support/chromium.js";

const kills = process.env["ASYMGEN_BROWSER_SWEEP"] === "1" ? 40 : 10;
const seed = Number(process.env["ASYMGEN_BROWSER_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
const perTxn = 20;

describe.each(storageKinds)("the browser Realm on %s, SIGKILLed mid-burst while uploading (real Chromium, real asymgen serve)", (storage) => {
  let fixture: RealmFixture;
  let api: FaultServer;
  const dirs: string[] = [];
  const running: RunningChromium[] = [];

  beforeAll(async () => {
    fixture = await startRealmFixture();
    api = await startFaultServer(fixture.server.origin);
  }, 60_000);

  afterAll(async () => {
    for (const browser of running) await browser.close();
    await fixture?.close();
    await api?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(
    `every transaction answered durable is stored once at the server, none partially (seed ${seed}, ${kills} kills)`,
    async () => {
      const context = `${storage} crash sweep, seed ${seed} (replay with ASYMGEN_BROWSER_SEED=${seed})`;
      console.log(`${context}, ${kills} kills`);
      // The same seed on both kinds, shifted, so the kinds do not kill at the same moments.
      const random = createSeededRandom(seed + (storage === "opfs" ? 0 : 1));
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `asymgen-realm-crash-${storage}-`));
      dirs.push(dir);
      const outcomes: Outcome[] = [];
      const open = { path: "crash", storage, sync: { appId: "e2e", baseUrl: api.proxy.origin }, syncOptions: fastSync };
      const start = async () => {
        const browser = await startChromium(dir);
        running.push(browser);
        const page = await browser.context.newPage();
        await collectOutcomes(page, outcomes);
        await page.goto(`${api.proxy.origin}/realm.html`);
        await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
        return { browser, page };
      };
      const log: string[] = [];
      // The user the first start logs in, found by every later start: its login resolved only once
      // IndexedDB had it on disk, so the first kill, soon after, does not lose it (no waiting).
      let userId: string | null = null;
      // Every upload answered 300 ms late: a good share of the kills land with one on the wire (the
      // server stored it, the queue never heard), and the restarted queue sends it again.
      api.proxy.setIngestDelay(300);
      let killsMidUpload = 0;
      /** Date.now() of each SIGKILL, for the upload bound (checkUploadsAfterKills). */
      const killedAt: number[] = [];
      for (let run = 0; run < kills; run++) {
        const { browser, page } = await start();
        const opened = await call<{ role: string; userId: string; loggedInNow: boolean }>(page, "open", open);
        expect(opened.role).toBe("owner");
        if (userId === null) {
          userId = opened.userId;
          expect(opened.loggedInNow).toBe(true);
        } else {
          expect(opened).toMatchObject({ userId, loggedInNow: false });
        }
        const answeredBefore = outcomes.length;
        const uploadsBefore = api.proxy.ingestRequests().started;
        await call(page, "streamOutcomes");
        // Four transactions in flight at a time, until the kill.
        await call(page, "endlessBurst", `run-${run}`, run * TXN_STRIDE, perTxn, 4);
        // At least one answer of this run, then a seeded moment: anywhere from right after the
        // first durable answers to well into the burst (uploads run all along).
        await waitUntil(() => outcomes.length > answeredBefore, `the first answer of run ${run}`);
        // Every fifth run outlives its answers by more than ACK_DURABLE_WITHIN_MS, so its queue's
        // acknowledgement cursor is surely written before the kill: the bound on re-uploads
        // (checkUploadsAfterKills) has something to hold the later runs to.
        const outlive = run % 5 === 0 ? ACK_DURABLE_WITHIN_MS + 1_000 : 0;
        await new Promise((resolve) => setTimeout(resolve, outlive + Math.floor(random() * 700)));
        const uploadsInFlight = api.proxy.ingestRequests().inFlight;
        if (uploadsInFlight > 0) killsMidUpload += 1;
        killedAt.push(Date.now());
        await browser.kill();
        running.splice(running.indexOf(browser), 1);
        log.push(`kill ${run}: ${outcomes.length - answeredBefore} answered, ${api.proxy.ingestRequests().started - uploadsBefore} uploads, ${uploadsInFlight} in flight at the kill`);
      }
      api.proxy.setIngestDelay(0);
      const { browser, page } = await start();
      expect(await call(page, "open", open)).toMatchObject({ role: "owner", userId, loggedInNow: false });
      expect(await call(page, "uploadAll", 60_000)).toBe(0);
      await call(page, "close");
      await browser.close();
      running.splice(running.indexOf(browser), 1);
      console.log(log.join("\n"));

      const failed = outcomes.filter((o) => !o.ok);
      if (failed.length > 0) throw new Error(`${context}: writes failed before the kill: ${JSON.stringify(failed.slice(0, 3))}`);
      const stored = await api.readStored();
      // Uploaded by the first login's user only: no restart logged in anew.
      expect([...new Set(stored.map((row) => row.userId))]).toEqual([userId]);
      const summary = checkStored(stored, outcomes, perTxn, new Map(Array.from({ length: kills }, (_, run) => [run, `run-${run}`])), context);
      const answered = outcomes.length;
      let storedUnreported = 0;
      for (let run = 0; run < kills; run++) {
        const txns = summary.txnsByWriter.get(run) ?? [];
        expectPrefix(txns, run * TXN_STRIDE, `${context}, run ${run}`);
        const reported = outcomes.filter((o) => Math.floor(o.txn / TXN_STRIDE) === run).length;
        storedUnreported += txns.length - reported;
      }
      const uploads = checkUploadsAfterKills(api.proxy.ingestLog(), killedAt, context);
      console.log(
        `${context}: ${uploads.uploadedDocuments} documents uploaded, ${uploads.distinctDocuments} distinct; ${uploads.resentAcknowledged} re-sent after a kill although acknowledged before it (the oldest of those acknowledged ${uploads.oldestResentAckMs} ms before its kill)`,
      );
      expect(uploads.distinctDocuments).toBe(summary.documents);
      // storedUnreported: made durable, but the answer (or its report) died with the browser.
      console.log(
        `${context}: ${answered} transactions answered durable before their kill, ${summary.documents / perTxn} stored (${storedUnreported} durable without the answer reaching the test); ${killsMidUpload} of ${kills} kills with an upload in flight`,
      );
      expect(summary.documents).toBeGreaterThanOrEqual(answered * perTxn);
    },
    60_000 + kills * 15_000,
  );
});
