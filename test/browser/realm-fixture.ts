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
import { deserialize } from "bson";
import type { Page } from "playwright-core";
import { startChromium, type RunningChromium } from "./support/chromium.js";
import { bundle, html, startPageServer, type PageServer } from "./support/page-server.js";

/** The page's API (pages/realm-page.ts), as tests call it through `page.evaluate`. */
export type RealmTestApi = Record<string, (...args: never[]) => unknown>;

/** A running page server with the Realm test page, and the browsers started on it. */
export interface RealmFixture {
  server: PageServer;
  /** Starts Chromium on a fresh profile, with `extraArgs` after the harness's own flags. */
  startBrowser(extraArgs?: readonly string[]): Promise<RunningChromium>;
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
    async startBrowser(extraArgs = []) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-realm-"));
      dirs.push(dir);
      const browser = await startChromium(dir, extraArgs);
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

/**
 * The tab among `pages` whose worker owns the queue, waiting up to `timeoutMs` for one after an
 * owner closed or died: a test's bursts can end before the takeover (the old owner may answer
 * them all while it goes), so a role read at once may still be "follower". Null if none does.
 * How long the takeover took comes from the tab's "role" message, not from this wait.
 */
export async function waitForOwner(pages: readonly Page[], timeoutMs = 10_000): Promise<Page | null> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    for (const page of pages) if ((await call<string>(page, "role")) === "owner") return page;
    if (Date.now() > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One upload as the proxy saw it: what the page sent, and what the server answered when. */
export interface IngestExchange {
  /** When the request reached the proxy (Date.now()). */
  startedAt: number;
  /** When the answer was handed to the page (after any ingest delay); null while in flight or if it never was. */
  answeredAt: number | null;
  /** The answer's HTTP status; null if the page got none (the connection died first). */
  status: number | null;
  queueId: string;
  /** The `seq` of every document in the request body, in order. */
  seqs: number[];
  /** A 200 answer's `acknowledgedSeq` (everything up to it handled by the server); else null. */
  acknowledgedSeq: number | null;
}

/** The queue id and document seqs of an ingest request body (ingest-protocol.ts `IngestRequest`, BSON). */
function readIngestRequest(body: Buffer): { queueId: string; seqs: number[] } {
  const request = deserialize(body, { promoteLongs: true, promoteValues: true }) as { queueId?: unknown; documents?: { seq?: unknown }[] };
  return { queueId: String(request.queueId), seqs: (request.documents ?? []).map((doc) => Number(doc.seq)) };
}

/** A 200 answer's `acknowledgedSeq`, or null for any other answer. */
function readAcknowledgedSeq(status: number, body: Buffer): number | null {
  if (status !== 200) return null;
  const answer = deserialize(body, { promoteLongs: true, promoteValues: true }) as { acknowledgedSeq?: unknown };
  return typeof answer.acknowledgedSeq === "number" ? answer.acknowledgedSeq : null;
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
  /** Every ingest request that reached the proxy, in arrival order, with the seqs it carried and the answer. */
  ingestLog(): readonly IngestExchange[];
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
  const ingestLog: IngestExchange[] = [];
  const server = http.createServer((req, res) => {
    if (apiDown && req.url?.startsWith("/api/")) {
      dropped += 1;
      req.socket.destroy();
      return;
    }
    // The pipelined route (ingest-protocol.ts pipelinedIngestPath) is an upload too.
    const isIngest = req.method === "POST" && /\/ingest(\/pipelined)?(\?|$)/.test(req.url ?? "");
    const requestBody: Buffer[] = [];
    const answerBody: Buffer[] = [];
    if (isIngest) {
      ingest.started += 1;
      ingest.inFlight += 1;
      const exchange: IngestExchange = { startedAt: Date.now(), answeredAt: null, status: null, queueId: "", seqs: [], acknowledgedSeq: null };
      ingestLog.push(exchange);
      req.on("data", (chunk: Buffer) => requestBody.push(chunk));
      req.once("end", () => Object.assign(exchange, readIngestRequest(Buffer.concat(requestBody))));
      res.once("finish", () => {
        exchange.answeredAt = Date.now();
        exchange.status = res.statusCode;
        exchange.acknowledgedSeq = readAcknowledgedSeq(res.statusCode, Buffer.concat(answerBody));
      });
      res.once("close", () => (ingest.inFlight -= 1));
    }
    const target = new URL(req.url ?? "/", req.url?.startsWith("/api/") ? apiOrigin : pageOrigin);
    const forward = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      const send = () => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // Attached with the pipe, not before: a "data" listener alone would start the flow and
        // lose the body while the ingest delay holds the answer back.
        if (isIngest) answer.on("data", (chunk: Buffer) => answerBody.push(chunk));
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
    ingestLog: () => ingestLog,
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
