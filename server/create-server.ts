/**
 * The reference ingest server on node:http: App Services-compatible auth, the BSON ingest route
 * and `GET /health`, over one store. It keeps no state of its own (auth state and high-water marks
 * live in the store), so several can share a PostgreSQL or MongoDB store behind a load balancer.
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { isLoopbackHost } from "asymgen/loopback";
import { defaultIngestLimits } from "asymgen/protocol";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { resolveAuthConfig } from "./auth/auth-config.js";
import type { AuthConfig } from "./auth/auth-config.js";
import { loadAccessTokenSecret } from "./auth/access-token-secret.js";
import { createAuthService } from "./auth/auth-service.js";
import { checkAuthSweepInterval, defaultAuthSweepIntervalMs, startAuthSweeper } from "./auth/auth-sweeper.js";
import { createAuthThrottle, resolveAuthLimits } from "./auth/auth-throttle.js";
import type { AuthLimits } from "./auth/auth-throttle.js";
import { createCors } from "./http/cors.js";
import { HttpError } from "./http/http-error.js";
import { sendError, sendJson } from "./http/respond.js";
import { createLogger, quietLogger } from "./logger.js";
import type { Logger } from "./logger.js";
import { handleProviderRoute, handleSessionRoute } from "./routes/auth-routes.js";
import { createIngestRoute } from "./routes/ingest-route.js";
import type { IngestLimits, IngestTestHooks } from "./routes/ingest-route.js";
import { openStore } from "./stores/open-store.js";
import type { IngestStore } from "./stores/store.js";
import { compileBsonScanners } from "./validate/compile-bson-scanners.js";

/** Test-only: where the server SIGKILLs itself, and on which ingest batch (1-based). */
export interface CrashFault {
  point: "before-commit" | "after-commit";
  afterBatches: number;
}

/** PEM texts of a certificate chain and its private key, for HTTPS. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** Options of `createIngestServer`. */
export interface IngestServerOptions {
  /** The canonical schemas (schema.json, parsed). */
  schema: readonly CanonicalObjectSchema[];
  appId: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Serve HTTPS with this certificate and key (default: plain HTTP, with a warning beyond loopback). */
  tls?: TlsFiles | null;
  /** A store URL (default `sqlite:./asymgen-data/ingest.sqlite`) or an open store (not closed by `close()`). */
  store?: string | IngestStore;
  /** Auth settings: a resolved config, or partial settings resolved with the defaults. */
  auth?: AuthConfig | Parameters<typeof resolveAuthConfig>[0];
  limits?: Partial<IngestLimits>;
  /** Default: JSON lines on stdout at info level. */
  logger?: Logger;
  /** Log nothing (tests). */
  quiet?: boolean;
  /**
   * TEST-ONLY crash injection for the fault tests. Default: read from the environment
   * (`ASYMGEN_FAULT_CRASH=before-commit|after-commit`, `ASYMGEN_FAULT_CRASH_AFTER=N`), and only
   * when `ASYMGEN_ENABLE_TEST_HOOKS=1` is set too, so a stray variable cannot crash production.
   */
  fault?: CrashFault | null;
  /** TEST-ONLY pause before each commit (default: env `ASYMGEN_TEST_COMMIT_DELAY_MS`, under the same switch). */
  testCommitDelayMs?: number;
  /** How long `close()` waits for in-flight requests before cutting connections (default 30 s). */
  shutdownTimeoutMs?: number;
  /** Rate limits of the auth routes (per account, per client address), over `defaultAuthLimits`. */
  authLimits?: Partial<AuthLimits>;
  /** How often expired sessions and anonymous users are deleted (default 10 min; once at start too; 0: never). */
  authSweepIntervalMs?: number;
  /** Web app origins (`https://app.example.com`) allowed to call the auth and ingest routes from a browser (default none: no CORS); see http/cors.ts. */
  corsOrigins?: readonly string[];
}

/** A running server. */
export interface IngestServer {
  /** `http://host:port`. */
  url: string;
  port: number;
  store: IngestStore;
  /** Stops accepting, finishes in-flight requests, then closes the store (if the server opened it). */
  close(): Promise<void>;
}

const apiPrefix = "/api/client/v2.0";

/** How long an idle keep-alive connection stays open: well past the clients' own idle timeouts. */
export const KEEP_ALIVE_TIMEOUT_MS = 30_000;

/** Default limits of the ingest route (the protocol's batch caps plus the server's memory bounds). */
export const defaultServerLimits: IngestLimits = {
  ...defaultIngestLimits,
  maxInFlightBatches: 64,
  maxInFlightBytes: 64 * 1024 * 1024,
  maxInFlightPerUser: 8,
  // One maximal batch (a 16 MiB document must always go through), which also holds the client's
  // pipeline at normal sizes (eight 1000-document batches of up to 2 MiB each), and a quarter of
  // the default budget: a user holding its whole share leaves room for three more maximal batches.
  maxInFlightBytesPerUser: defaultIngestLimits.maxBatchBytes,
  bodyReadTimeoutMs: 30_000,
  maxStoringBatches: 4,
};

/** Resolves partial limits over the defaults; throws on limits that cannot work together. */
export function resolveIngestLimits(partial: Partial<IngestLimits> = {}): IngestLimits {
  const limits: IngestLimits = { ...defaultServerLimits, ...partial };
  // Raising the batch cap alone raises the default budgets with it: one maximal batch must fit.
  if (partial.maxInFlightBytes === undefined) limits.maxInFlightBytes = Math.max(limits.maxInFlightBytes, limits.maxBatchBytes);
  if (partial.maxInFlightBytesPerUser === undefined)
    limits.maxInFlightBytesPerUser = Math.max(limits.maxInFlightBytesPerUser, limits.maxBatchBytes);
  for (const [name, value] of Object.entries(limits)) {
    if (!(Number.isInteger(value) && value > 0)) throw new Error(`limits: ${name} must be a positive integer (got ${value})`);
  }
  if (limits.maxInFlightBytes < limits.maxBatchBytes)
    throw new Error(`limits: maxInFlightBytes (${limits.maxInFlightBytes}) must be at least maxBatchBytes (${limits.maxBatchBytes})`);
  // Below one batch, a maximal batch would be refused with 429 forever, and clients retry 429s.
  if (limits.maxInFlightBytesPerUser < limits.maxBatchBytes)
    throw new Error(
      `limits: maxInFlightBytesPerUser (${limits.maxInFlightBytesPerUser}) must be at least maxBatchBytes (${limits.maxBatchBytes})`,
    );
  return limits;
}

/** Whether the test-only hooks may be read from the environment: only with `ASYMGEN_ENABLE_TEST_HOOKS=1`. */
export function testHooksEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env["ASYMGEN_ENABLE_TEST_HOOKS"] === "1";
}

/** Reads the test-only crash fault from the environment (null unless the test hooks are enabled). */
export function readCrashFaultFromEnv(env: NodeJS.ProcessEnv = process.env): CrashFault | null {
  if (!testHooksEnabled(env)) return null;
  const point = env["ASYMGEN_FAULT_CRASH"];
  if (point !== "before-commit" && point !== "after-commit") return null;
  const afterBatches = Number(env["ASYMGEN_FAULT_CRASH_AFTER"] ?? "1");
  return { point, afterBatches: Number.isInteger(afterBatches) && afterBatches > 0 ? afterBatches : 1 };
}

/** Reads the test-only commit delay from the environment (0 unless the test hooks are enabled). */
export function readCommitDelayFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  if (!testHooksEnabled(env)) return 0;
  const delay = Number(env["ASYMGEN_TEST_COMMIT_DELAY_MS"]);
  return Number.isFinite(delay) && delay > 0 ? delay : 0;
}

/** Throws when the schema cannot be served (asymmetric models need a required primary key persisted as `_id`; no persisted name may start with `$`). */
export function checkServableSchema(schema: readonly CanonicalObjectSchema[]): CanonicalObjectSchema[] {
  if (!Array.isArray(schema)) throw new Error("schema: expected an array of canonical object schemas");
  const models = schema.filter((model) => model.asymmetric && !model.embedded);
  if (models.length === 0) throw new Error("schema: no asymmetric model to ingest");
  for (const model of models) {
    const key = model.primaryKey === undefined ? undefined : model.properties[model.primaryKey];
    if (!key || key.mapTo !== "_id") throw new Error(`schema: asymmetric model "${model.name}" needs a primary key persisted as "_id"`);
    // The stores key rows by it: a missing or null `_id` could be neither found again nor
    // judged as a retry (MongoDB's driver would even invent one).
    if (key.optional) throw new Error(`schema: asymmetric model "${model.name}": its primary key "${key.name}" must not be optional`);
  }
  // The stores' delivery columns start with "$" ("$user", "$arrived"…), and MongoDB reads such a
  // field name as an operator: no persisted name may start with it (the generator's ASYM3036).
  for (const model of schema as readonly CanonicalObjectSchema[]) {
    for (const property of Object.values(model.properties)) {
      if (property.mapTo.startsWith("$"))
        throw new Error(`schema: "${model.name}.${property.mapTo}": a persisted name cannot start with "$" (stores reserve such names)`);
    }
  }
  return models;
}

/**
 * Beyond loopback without TLS, bearer tokens, passwords and the data itself cross the network in
 * clear text: say so loudly (a log line and stderr), louder still when anyone may log in anonymously.
 */
function warnPlainHttp(logger: Logger, address: string, auth: AuthConfig): void {
  const anonymous = auth.providers.has("anon-user");
  const message =
    `WARNING: listening on ${address} over plain HTTP: passwords, tokens and data cross the network unencrypted. ` +
    `Use --tls-cert/--tls-key, or keep the server on 127.0.0.1 behind a TLS-terminating proxy.` +
    (anonymous ? " Anonymous login is on: anyone who can reach this port can write data." : "");
  logger.log("warn", message, { address, anonymous });
  process.stderr.write(`asymgen: ${message}\n`);
}

/** Starts an ingest server; resolves once it listens. */
export async function createIngestServer(options: IngestServerOptions): Promise<IngestServer> {
  const logger = options.quiet ? quietLogger : (options.logger ?? createLogger());
  const models = checkServableSchema(options.schema);
  const limits = resolveIngestLimits(options.limits);
  const throttle = createAuthThrottle(resolveAuthLimits(options.authLimits));
  const authSweepIntervalMs = checkAuthSweepInterval(options.authSweepIntervalMs ?? defaultAuthSweepIntervalMs);
  const validators = compileBsonScanners(options.schema);
  const cors = createCors(options.corsOrigins ?? [], apiPrefix);
  const ownsStore = typeof options.store !== "object";
  const store = typeof options.store === "object" ? options.store : await openStore(options.store);
  try {
    // The whole schema: the stores make tables for the asymmetric models and decode nested values with the embedded ones.
    for (const warning of await store.prepare(options.schema)) logger.log("warn", warning);
    const authConfig =
      options.auth && "providers" in options.auth && options.auth.providers instanceof Set
        ? (options.auth as AuthConfig)
        : resolveAuthConfig(options.auth as Parameters<typeof resolveAuthConfig>[0]);
    const secret = await loadAccessTokenSecret(authConfig, store, logger);
    const auth = await createAuthService(store, authConfig, options.appId, secret, logger);
    for (const warning of authConfig.customToken?.warnings ?? []) logger.log("warn", warning);
    const testHooks: IngestTestHooks = {
      fault: options.fault === undefined ? readCrashFaultFromEnv() : options.fault,
      commitDelayMs: options.testCommitDelayMs ?? readCommitDelayFromEnv(),
    };
    if (testHooks.fault || testHooks.commitDelayMs > 0)
      logger.log("warn", "TEST HOOKS ENABLED: do not use this server in production", { ...testHooks });
    const ingest = createIngestRoute({ store, auth, validators, limits, logger, testHooks });
    const appPrefix = `${apiPrefix}/app/`;
    let draining = false;
    let active = 0;
    let url = "";

    async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      // Before anything authenticates, reads the body or reaches the store.
      if (cors.answerPreflight(req, res, path)) return;
      const authorization = req.headers["authorization"];
      const bearer = typeof authorization === "string" && authorization.startsWith("Bearer ") ? authorization.slice(7).trim() : null;
      if (path === "/health" && req.method === "GET") {
        const broken = store.broken();
        if (broken !== null) sendJson(res, 503, { status: "store_failed", store: store.kind, reason: broken });
        else sendJson(res, draining ? 503 : 200, { status: draining ? "draining" : "ok", store: store.kind });
        return;
      }
      if (path.startsWith(`${apiPrefix}/auth/`)) {
        if (await handleSessionRoute(auth, path.slice(`${apiPrefix}/auth/`.length), req, res, bearer)) return;
        throw new HttpError(404, "NotFound", "no such route");
      }
      if (path.startsWith(appPrefix)) {
        const [appSegment = "", ...rest] = path.slice(appPrefix.length).split("/");
        let appId: string;
        try {
          appId = decodeURIComponent(appSegment);
        } catch {
          throw new HttpError(404, "AppNotFound", "no such app");
        }
        if (appId !== options.appId)
          throw new HttpError(404, "AppNotFound", `cannot find app using Client App ID '${appId.slice(0, 100)}'`);
        const sub = rest.join("/");
        // "ingest/pipelined" is the same route for gated batches (see pipelinedIngestPath).
        if ((sub === "ingest" || sub === "ingest/pipelined") && req.method === "POST") {
          if (draining) throw new HttpError(503, "ServiceUnavailable", "server shutting down", { "retry-after": "1" });
          await ingest.handle(req, res, bearer);
          return;
        }
        if (sub === "location" && req.method === "GET") {
          sendJson(res, 200, { deployment_model: "GLOBAL", location: "local", hostname: url, ws_hostname: url.replace(/^http/, "ws") });
          return;
        }
        const provider = /^auth\/providers\/([^/]+)\/([^/]+)$/.exec(sub);
        if (provider && (await handleProviderRoute(auth, throttle, provider[1] ?? "", provider[2] ?? "", req, res))) return;
      }
      throw new HttpError(404, "NotFound", "no such route");
    }

    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      active++;
      const started = Date.now();
      cors.prepare(req, res);
      route(req, res)
        .catch((error: unknown) => {
          if (res.headersSent) {
            res.destroy();
            return;
          }
          if (error instanceof HttpError) {
            sendError(res, error, !req.readableEnded);
            return;
          }
          logger.log("error", "request failed", { method: req.method, path: req.url, error });
          sendError(res, new HttpError(500, "InternalServerError", "internal server error"), !req.readableEnded);
        })
        .finally(() => {
          active--;
          logger.log("debug", "request", { method: req.method, path: req.url, status: res.statusCode, ms: Date.now() - started });
        });
    };
    const server = options.tls ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, handler) : http.createServer(handler);
    // A client must drop an idle connection before the server does: one that reuses a connection
    // as the server closes it meets a reset (Node's agent and undici's fetch idle 4–5 s; Node's
    // server default, 5 s, made them cross on a loaded machine). Idle sockets cost little, and a
    // socket may already wait longer for its headers (headersTimeout, 60 s).
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    server.on("clientError", (_error, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    url = `${options.tls ? "https" : "http"}://${host}:${address.port}`;
    if (!options.tls && !isLoopbackHost(address.address)) warnPlainHttp(logger, address.address, authConfig);
    logger.log("info", "server listening", { url, appId: options.appId, store: store.location, models: models.map((m) => m.name) });

    const sweeper = startAuthSweeper(store, { intervalMs: authSweepIntervalMs, logger });
    let closing: Promise<void> | null = null;
    return {
      url,
      port: address.port,
      store,
      close() {
        closing ??= (async () => {
          draining = true;
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          // Requests already running (a batch mid-commit) finish and get their answer; a client
          // trickling a body forever does not hold the shutdown past the timeout.
          const deadline = Date.now() + (options.shutdownTimeoutMs ?? 30_000);
          while (active > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
          if (active > 0) logger.log("warn", "shutdown timeout: cutting requests still running", { active });
          server.closeAllConnections();
          await closed;
          await sweeper.stop();
          if (ownsStore) await store.close();
          logger.log("info", "server stopped", { url });
        })();
        return closing;
      },
    };
  } catch (error) {
    if (ownsStore) await store.close().catch(() => {});
    throw error;
  }
}
