/**
 * What the platform-neutral core needs from its host, and the one place an entry point
 * (`asymgen`'s `node` or `browser` condition) installs it. Nothing in the core imports `node:*`;
 * everything that touches files, sockets or the process goes through this object.
 */
import type { HttpTransport } from "../app/http-transport.js";
import type { UserStore } from "../app/user-store.js";
import type { LogStore } from "../queue/log-store.js";
import { AsymgenError } from "../errors.js";

/** A warning for the host to show: Node's `process.emitWarning(message, { type, code, detail })`. */
export interface HostWarning {
  /** The warning's name, e.g. "AsymgenQueueRecoveryWarning" (what `process.on("warning")` handlers filter on). */
  type: string;
  /** A stable code, e.g. "ASYMGEN_QUEUE_TORN_TAIL". */
  code: string;
  message: string;
  /** Machine-readable detail (a JSON report). */
  detail?: string;
}

/** A host's implementation of the core's I/O. */
export interface Platform {
  /** "node" or "browser": named in errors. */
  readonly name: string;
  /**
   * Opens (creating if missing) the queue's log at `path` (a directory on Node) and takes its
   * lock. May be asynchronous: a browser's file system opens files only asynchronously.
   */
  openLogStore(path: string): LogStore | Promise<LogStore>;
  /** Sends the HTTP requests of `App`, `User` and the sync session. */
  readonly transport: HttpTransport;
  /**
   * The store of app `appId`'s users (`App` opens it once). `baseFilePath` is the app's
   * configured location, if any: Node keeps the users in a file under it (default
   * `./asymgen-data/app-<appId>/`); a platform without files may ignore it.
   */
  openUserStore(appId: string, baseFilePath: string | undefined): UserStore;
  /** Shows a warning the way the host does (Node: `process.emitWarning`). */
  warn(warning: HostWarning): void;
}

let installed: Platform | null = null;

/** Called once by an entry point; a second call replaces the first (tests). */
export function installPlatform(platform: Platform): void {
  installed = platform;
}

/** The installed platform; throws when the core was imported without an entry point. */
export function currentPlatform(): Platform {
  if (installed === null) {
    throw new AsymgenError(
      'asymgen: no platform adapter is loaded: import the runtime as "asymgen" (its node or browser entry), not a file inside the package',
    );
  }
  return installed;
}
