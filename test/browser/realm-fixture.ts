/**
 * What the browser Realm tests share: one page server serving the test page
 * (pages/realm-page.ts) and the queue worker, both bundled from source, and Chromium on a
 * profile of the test's own. The worker is served at /queue-worker.js, next to the page's
 * bundle, which is where the Realm's default `new URL("./queue-worker.js", import.meta.url)`
 * points: no test-only option.
 */
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { startChromium, type RunningChromium } from "./support/chromium.js";
import { bundle, html, startPageServer, type PageServer } from "./support/page-server.js";

/** The page's API (pages/realm-page.ts), as tests call it through `page.evaluate`. */
export type RealmTestApi = Record<string, (...args: never[]) => unknown>;

/** A running page server with the Realm test page, and the browsers started on it. */
export interface RealmFixture {
  server: PageServer;
  startBrowser(): Promise<RunningChromium>;
  /** Opens `urlPath` of `origin` (default: the page server's) in a new tab of `browser`. */
  openPage(browser: RunningChromium, urlPath?: string, origin?: string): Promise<Page>;
  close(): Promise<void>;
}

/** Starts the page server with the bundled page and worker. */
export async function startRealmFixture(): Promise<RealmFixture> {
  const server = await startPageServer();
  const [page, worker] = await Promise.all([bundle("test/browser/pages/realm-page.ts"), bundle("runtime/browser/queue-worker.ts")]);
  server.put("/realm.html", html(`<!doctype html><title>realm</title><script type="module" src="/realm-page.js"></script>`));
  server.put("/realm-page.js", page);
  server.put("/queue-worker.js", worker);
  const browsers: RunningChromium[] = [];
  const dirs: string[] = [];
  return {
    server,
    async startBrowser() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-realm-"));
      dirs.push(dir);
      const browser = await startChromium(dir);
      browsers.push(browser);
      return browser;
    },
    async openPage(browser, urlPath = "/realm.html", origin = server.origin) {
      const tab = await browser.context.newPage();
      tab.on("pageerror", (error) => console.error(`page error: ${error.message}`));
      await tab.goto(`${origin}${urlPath}`);
      await tab.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      return tab;
    },
    async close() {
      for (const browser of browsers) await browser.close();
      await server.close();
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calls `realmTest[name](...args)` in `page`. */
export function call<T = unknown>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([n, a]) => (window as unknown as { realmTest: Record<string, (...x: unknown[]) => unknown> }).realmTest[n as string]!(...(a as unknown[])),
    [name, args] as const,
  ) as Promise<T>;
}

/** A server that puts the page server and an API server behind one origin. */
export interface SameOriginProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** While down, every /api/ request has its connection dropped (a network failure for the page). */
  setApiDown(down: boolean): void;
  /** How many /api/ requests were dropped while down. */
  droppedApiRequests(): number;
  /** Ingest (upload) requests: how many reached the proxy, and how many of them are unanswered now. */
  ingestRequests(): { started: number; inFlight: number };
  /** Holds every ingest answer back this long (a slow server), so a test can act while an upload is in flight. */
  setIngestDelay(ms: number): void;
  close(): Promise<void>;
}

/**
 * Serves `/api/…` from `apiOrigin` (an `asymgen serve`) and everything else from `pageOrigin`,
 * on one origin, so a test needs no `--cors-origin` (which the demo and browser-demo.test.ts
 * use) and gets one place to see and disturb the page's API traffic: drop it, delay the ingest
 * answers, count the uploads. A plain HTTP forward: method, path, headers and body pass through
 * both ways.
 */
export async function startSameOriginProxy(pageOrigin: string, apiOrigin: string, host = "127.0.0.1"): Promise<SameOriginProxy> {
  let apiDown = false;
  let dropped = 0;
  let ingestDelayMs = 0;
  const ingest = { started: 0, inFlight: 0 };
  const server = http.createServer((req, res) => {
    if (apiDown && req.url?.startsWith("/api/")) {
      dropped += 1;
      req.socket.destroy();
      return;
    }
    const isIngest = req.method === "POST" && /\/ingest(\?|$)/.test(req.url ?? "");
    if (isIngest) {
      ingest.started += 1;
      ingest.inFlight += 1;
      res.once("close", () => (ingest.inFlight -= 1));
    }
    const target = new URL(req.url ?? "/", req.url?.startsWith("/api/") ? apiOrigin : pageOrigin);
    const forward = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      const send = () => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      };
      if (isIngest && ingestDelayMs > 0) setTimeout(send, ingestDelayMs);
      else send();
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    droppedApiRequests: () => dropped,
    ingestRequests: () => ({ ...ingest }),
    setIngestDelay(ms) {
      ingestDelayMs = ms;
    },
    setApiDown(down) {
      apiDown = down;
      // Kept-alive connections would still reach the server: drop them.
      if (down) server.closeAllConnections();
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
