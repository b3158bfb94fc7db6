/**
 * The `browser` entry of "asymgen" (package.json's "browser" condition, which bundlers pick):
 * model classes, validation, BSON encoding and App/login work here over `fetch` (users kept in
 * memory); the durable queue does not yet (no browser log store), and says so when a Realm is opened.
 */
import { openMemoryUserStore } from "../app/memory-user-store.js";
import { QueueUnsupportedError } from "../errors.js";
import { installPlatform, type HostWarning, type Platform } from "../platform/platform.js";
import type { LogStore } from "../queue/log-store.js";
import { fetchTransport } from "./fetch-transport.js";

/** What the core uses in a browser. */
export const browserPlatform: Platform = {
  name: "browser",
  openLogStore(path: string): LogStore {
    throw new QueueUnsupportedError(
      `asymgen: cannot open the queue at "${path}": the durable queue in browsers arrives with the browser adapter; this release supports model classes, validation, encoding and App/login in browsers`,
    );
  },
  transport: fetchTransport,
  // Users last as long as the page: a reload means a new login until the browser adapter keeps them.
  openUserStore: (appId: string) => openMemoryUserStore(appId),
  warn({ message, code }: HostWarning): void {
    console.warn(`${code}: ${message}`);
  },
};

installPlatform(browserPlatform);

export * from "../exports.js";
