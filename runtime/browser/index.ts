/**
 * The `browser` entry of "asymgen" (package.json's "browser" condition, which bundlers pick):
 * everything of runtime/exports.ts, with the browser's `Realm` (browser-realm.ts: the queue in a
 * dedicated worker, shared by the origin's tabs) instead of Node's, App/login over `fetch`, and
 * users kept in IndexedDB across reloads and crashes (read asynchronously: `await App.open`).
 */
import { QueueUnsupportedError } from "../errors.js";
import { installPlatform, type HostWarning, type Platform } from "../platform/platform.js";
import type { LogStore } from "../queue/log-store.js";
import { fetchTransport } from "./fetch-transport.js";
import { openIndexedDbUserStore } from "./indexeddb-user-store.js";

/** What the core uses in a browser page. */
export const browserPlatform: Platform = {
  name: "browser",
  openLogStore(path: string): LogStore {
    // The page never opens log files: the browser's Realm opens its queue in the queue worker.
    throw new QueueUnsupportedError(`asymgen: cannot open the queue at "${path}" on a page's main thread: the browser's Realm.open opens it in its queue worker`);
  },
  transport: fetchTransport,
  openUserStore: (appId: string) => openIndexedDbUserStore(appId),
  warn({ message, code }: HostWarning): void {
    console.warn(`${code}: ${message}`);
  },
};

installPlatform(browserPlatform);

export * from "../exports.js";
// Shadows the `Realm` of exports.ts (a local export wins over `export *`): the browser's Realm.
export { Realm } from "./browser-realm.js";
export type { BrowserRealmConfiguration, BrowserSyncConfiguration } from "./browser-realm.js";
export { BrowserSyncSession } from "./browser-sync-session.js";
export type { QueueStatsAnswer, StorageKind } from "./queue-worker-protocol.js";
