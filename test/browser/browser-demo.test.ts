/**
 * `npm run demo:browser`, checked headless: the built demo runs as a user starts it, Chromium
 * opens its page in two tabs (owner and follower), both ingest while the page's uploads toggle
 * pauses and resumes the session, and the rows the server's SQLite file holds then equal exactly
 * what the two tabs wrote; then a page on the IndexedDB fallback (`?storage=indexeddb`, another
 * browser profile) catches up as exactly. A screenshot of the owner tab, offline with readings queued, goes to
 * docs/browser-demo.png with ASYMGEN_DEMO_SCREENSHOT=1 (the README's picture), else to a temp dir.
 * Needs `npm run build` (the demo runs from build/, the page bundles runtime/dist/).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "@jest/globals";
import type { Page } from "playwright-core";
import { startChromium, type RunningChromium } from "./support/chromium.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-browser-demo-"));
let demo: ChildProcess | undefined;
let browser: RunningChromium | undefined;

afterAll(async () => {
  await browser?.close();
  // Its own process group (detached): a failed run kills the demo and the `asymgen serve` it started.
  if (demo?.exitCode === null && demo.signalCode === null) process.kill(-demo.pid!, "SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The number a counter of the page shows. */
async function counter(page: Page, id: string): Promise<number> {
  const text = (await page.locator(`#${id}`).textContent()) ?? "";
  const value = Number(text);
  if (!Number.isInteger(value)) throw new Error(`#${id} shows ${JSON.stringify(text)}, not a count`);
  return value;
}

/**
 * The sum of the tabs' `written` counters once it stops moving (the same over half a second):
 * after the rate goes to 0 a tick already due still writes, and on a loaded machine it can come
 * later than any fixed wait (then the database ends above the total taken too early).
 */
async function settledWritten(tabs: Page[]): Promise<number> {
  const total = async () => (await Promise.all(tabs.map((tab) => counter(tab, "written")))).reduce((a, b) => a + b, 0);
  let last = await total();
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
    await sleep(500);
    const now = await total();
    if (now === last) return now;
    last = now;
  }
  throw new Error(`the tabs kept writing after their rate went to 0 (${last} written)`);
}

async function setRate(page: Page, rate: number): Promise<void> {
  // A range input has no typing: set it and fire "input", as dragging it does.
  await page.locator("#rate").evaluate((input: HTMLInputElement, value) => {
    input.value = String(value);
    input.dispatchEvent(new Event("input"));
  }, rate);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("ingests in two tabs through an uploads pause, then on IndexedDB: the server's SQLite holds exactly what was written", async () => {
  const started = Date.now();
  demo = spawn(process.execPath, ["build/demo/browser/run-browser-demo.js", "--data-dir", path.join(dir, "data")], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  demo.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  demo.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => demo!.once("exit", (code) => resolve(code)));
  let url: string | undefined;
  while (url === undefined) {
    url = /Open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1];
    if (demo.exitCode !== null) throw new Error(`the demo exited with ${demo.exitCode}:\n${output}`);
    if (Date.now() - started > 30_000) throw new Error(`the demo printed no URL within 30 s:\n${output}`);
    await sleep(50);
  }
  expect(output).toContain("--cors-origin http://127.0.0.1:");

  browser = await startChromium(path.join(dir, "profile"));
  const open = async (): Promise<Page> => {
    const tab = await browser!.context.newPage();
    await tab.setViewportSize({ width: 820, height: 860 });
    tab.on("pageerror", (error) => console.error(`page error: ${error.message}`));
    await tab.goto(url!);
    await tab.waitForSelector("body[data-ready]");
    expect(await tab.locator("body").getAttribute("data-ready")).toBe("true");
    return tab;
  };
  const owner = await open();
  const follower = await open();
  await owner.waitForFunction(() => document.getElementById("role")?.textContent?.startsWith("owner") === true);
  await follower.waitForFunction(() => document.getElementById("role")?.textContent?.startsWith("follower") === true);
  expect(await owner.locator("#storage").textContent()).toMatch(/^auto → opfs/);

  // Online: both tabs' readings (20/s each) reach the database.
  await owner.waitForFunction(() => Number(document.getElementById("stored")?.textContent) > 0, undefined, { timeout: 10_000 });

  // Offline (the session paused, from the follower: it pauses the owner's worker): nothing more is stored, the queue grows.
  await follower.click("#uploads");
  await follower.waitForFunction(() => document.getElementById("uploads")?.textContent === "Uploads: paused");
  await owner.waitForFunction(() => document.getElementById("connection")?.textContent?.includes("paused") === true);
  expect(await owner.locator("#uploads").textContent()).toBe("Uploads: paused");
  // A batch already on the wire may still land: its answer can take seconds on a loaded machine.
  await sleep(2_000);
  const storedWhenPaused = await counter(owner, "stored");
  await sleep(2_000);
  expect(await counter(owner, "stored")).toBe(storedWhenPaused);
  const queued = await counter(owner, "pending");
  expect(queued).toBeGreaterThanOrEqual(40); // two tabs at 20/s for 2 s and more
  await owner.screenshot({ path: process.env["ASYMGEN_DEMO_SCREENSHOT"] === "1" ? path.join(repoRoot, "docs", "browser-demo.png") : path.join(dir, "browser-demo.png") });

  // Online again, then the sensors stop: the database catches up with every written reading, exactly.
  await follower.click("#uploads");
  await sleep(1_000);
  await Promise.all([setRate(owner, 0), setRate(follower, 0)]);
  const written = await settledWritten([owner, follower]);
  await owner.waitForFunction((total) => Number(document.getElementById("stored")?.textContent) === total && document.getElementById("pending")?.textContent === "0", written, { timeout: 30_000 });
  expect(await counter(owner, "stored")).toBe(written);
  expect(written).toBeGreaterThan(queued);

  // The IndexedDB fallback, chosen by the URL, in a browser of its own (another profile: the
  // first browser's tabs own this origin's OPFS queue there).
  await browser.close();
  browser = await startChromium(path.join(dir, "profile-indexeddb"));
  const fallback = await browser.context.newPage();
  await fallback.goto(`${url}?storage=indexeddb`);
  await fallback.waitForSelector("body[data-ready]");
  expect(await fallback.locator("#storage").textContent()).toMatch(/^indexeddb/);
  await fallback.waitForFunction((before) => Number(document.getElementById("stored")?.textContent) >= before + 20, written, { timeout: 10_000 });
  await setRate(fallback, 0);
  const total = written + (await settledWritten([fallback]));
  await fallback.waitForFunction((expected) => Number(document.getElementById("stored")?.textContent) === expected && document.getElementById("pending")?.textContent === "0", total, { timeout: 30_000 });

  // Ctrl-C: the demo stops its servers and exits 0.
  demo.kill("SIGINT");
  expect(await exited).toBe(0);
  expect(output).toContain("stopped");
  console.log(`browser demo check: ${written} readings written by two OPFS tabs and ${total - written} by an IndexedDB one, all stored; ${queued} were queued while paused; ${Date.now() - started} ms`);
  // A demo build, two Chromiums and fixed waits of ~5 s: 60 s left a loaded machine little room.
}, 120_000);
