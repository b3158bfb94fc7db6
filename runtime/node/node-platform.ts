/**
 * The Node `Platform`: the queue's log store on the file system, HTTP over `node:http`/`node:https`
 * (proxies and TLS included), users in a JSON file, warnings through `process.emitWarning`.
 */
import type { HostWarning, Platform } from "../platform/platform.js";
import { openNodeLogStore } from "./node-log-store.js";
import { sendNodeHttpRequest } from "./node-http-transport.js";
import { openNodeUserStore } from "./node-user-store.js";

/** What the core uses on Node. */
export const nodePlatform: Platform = {
  name: "node",
  openLogStore: openNodeLogStore,
  transport: sendNodeHttpRequest,
  openUserStore: openNodeUserStore,
  warn({ message, type, code, detail }: HostWarning): void {
    process.emitWarning(message, { type, code, ...(detail !== undefined && { detail }) });
  },
};
