/**
 * The `browser` entry of "asymgen" (package.json's "browser" condition, which bundlers pick):
 * model classes, validation, BSON encoding and App/login work here over `fetch` (users kept in
 * memory); the durable queue does not yet (no browser log store), and says so when a Realm is opened.
 */
import { openMemoryUserStore } from "../app/memory-user-store.js";
import { AsymgenError } from "../errors.js";
import { installPlatform, type Platform } from "../platform/platform.js";
import type { LogStore } from "../queue/log-store.js";
import { fetchTransport } from "./fetch-transport.js";

/** Opening a durable queue in a browser: not in this release (the browser adapter issue adds an IndexedDB/OPFS log store). */
export class BrowserQueueUnsupportedError extends AsymgenError {
  override name = "BrowserQueueUnsupportedError";
}

/** What the core uses in a browser. */
export const browserPlatform: Platform = {
  name: "browser",
  openLogStore(path: string): LogStore {
    throw new BrowserQueueUnsupportedError(
      `asymgen: cannot open the queue at "${path}": the durable queue in browsers arrives with the browser adapter; this release supports model classes, validation, encoding and App/login in browsers`,
    );
  },
  transport: fetchTransport,
  // Users last as long as the page: a reload means a new login until the browser adapter keeps them.
  openUserStore: (appId: string) => openMemoryUserStore(appId),
  warn(message: string, code: string): void {
    console.warn(`${code}: ${message}`);
  },
};

installPlatform(browserPlatform);

export * from "../exports.js";
