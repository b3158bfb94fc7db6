/**
 * The Node `Platform`: the queue's log store on the file system, HTTP over `node:http`/`node:https`
 * (proxies and TLS included), warnings through `process.emitWarning`.
 */
import type { Platform } from "../platform/platform.js";
import type { LogStore } from "../queue/log-store.js";
// TEMPORARY (package-split branch): the Node log store (`openNodeLogStore`, runtime/node/node-log-store.ts)
// and transport (`sendNodeHttpRequest`, runtime/node/node-http-transport.ts) land from the queue and
// sync branches; the lead replaces these two lines with
//   import { openNodeLogStore } from "./node-log-store.js";
//   import { sendNodeHttpRequest } from "./node-http-transport.js";
// and the two members below with `openLogStore: openNodeLogStore` and `transport: sendNodeHttpRequest`.
import { sendHttpRequest as sendNodeHttpRequest } from "../app/http-request.js";
import { AsymgenError } from "../errors.js";

/** TEMPORARY placeholder until runtime/node/node-log-store.ts is merged (the queue still opens its files itself). */
function openNodeLogStore(path: string): LogStore {
  throw new AsymgenError(`asymgen: the Node log store is not merged on this branch (opening ${path})`);
}

/** What the core uses on Node. */
export const nodePlatform: Platform = {
  name: "node",
  openLogStore: openNodeLogStore,
  transport: sendNodeHttpRequest,
  warn(message: string, code: string): void {
    process.emitWarning(message, { code });
  },
};
