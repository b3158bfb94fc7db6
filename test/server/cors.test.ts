/**
 * CORS (`asymgen serve --cors-origin`), over real HTTP on loopback against a real SQLite store:
 * preflights for a listed origin, none for another or without a list, the headers on every actual
 * answer (errors too), preflights that never reach the store or the rate limits, the settings'
 * checks, and the real bin taking the flag repeated.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { pipelinedIngestPath, ingestPath } from "../../runtime/sync/ingest-protocol.js";
import { parseRateLimit } from "../../server/auth/rate-limiter.js";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import { corsAllowedHeaders, corsMaxAgeSeconds } from "../../server/http/cors.js";
import { resolveServeSettings } from "../../server/serve-settings.js";
import { openStore } from "../../server/stores/open-store.js";
import type { IngestStore } from "../../server/stores/store.js";
import { encodeBatch, loginAnonymous, makeWeatherDoc, newQueueId, testSchema } from "../support/ingest-server-fixtures.js";
import { cliPath, spawnIngestServer } from "../support/spawn-ingest-server.js";

const appId = "cors-app";
const app = "https://app.example.com";
const otherApp = "http://localhost:5173";
const stranger = "https://evil.example";
const api = "/api/client/v2.0";
const anonLogin = `${api}/app/${appId}/auth/providers/anon-user/login`;
const userpassLogin = `${api}/app/${appId}/auth/providers/local-userpass/login`;

/** The routes a browser app calls, with the methods their preflight allows. */
const corsRoutes: [string, string][] = [
  ["/health", "GET"],
  [`${api}/auth/session`, "POST, DELETE"],
  [`${api}/auth/profile`, "GET"],
  [anonLogin, "POST"],
  [userpassLogin, "POST"],
  [`${api}/app/${appId}/auth/providers/api-key/login`, "POST"],
  [`${api}/app/${appId}/auth/providers/custom-token/login`, "POST"],
  [`${api}/app/${appId}/auth/providers/local-userpass/register`, "POST"],
  [ingestPath(appId), "POST"],
  [pipelinedIngestPath(appId), "POST"],
];

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One request over node:http: unlike fetch, it lets a test send `Origin` and
 * `Access-Control-Request-*` itself, as the browser does.
 */
function send(baseUrl: string, method: string, route: string, headers: Record<string, string>, body?: Uint8Array | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${baseUrl}${route}`, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }));
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** A browser's preflight for `method` with the headers the runtime's fetch transport sends. */
function preflight(baseUrl: string, route: string, origin: string, method = "POST", extra: Record<string, string> = {}): Promise<Answer> {
  return send(baseUrl, "OPTIONS", route, {
    origin,
    "access-control-request-method": method,
    "access-control-request-headers": "authorization,content-type",
    ...extra,
  });
}

/** The answer's `access-control-*` headers (none is the refusal). */
function corsHeadersOf(answer: Answer): Record<string, unknown> {
  return Object.fromEntries(Object.entries(answer.headers).filter(([name]) => name.startsWith("access-control-")));
}

/** Counts every call the server makes to the store (real SQLite underneath). */
function countStoreCalls(store: IngestStore): { store: IngestStore; calls: () => number } {
  let calls = 0;
  const counted = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: counted, calls: () => calls };
}

function expectAllowed(answer: Answer, origin: string): void {
  expect(answer.headers["access-control-allow-origin"]).toBe(origin);
  expect(answer.headers["vary"]).toBe("Origin");
  expect(answer.headers["access-control-expose-headers"]).toBe("retry-after");
  // Bearer tokens, not cookies: nothing for the browser to attach.
  expect(answer.headers["access-control-allow-credentials"]).toBeUndefined();
}

describe("CORS with listed origins", () => {
  let dir: string;
  let server: IngestServer;
  let realStore: IngestStore;
  let storeCalls: () => number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-cors-"));
    realStore = await openStore(`sqlite:${path.join(dir, "ingest.sqlite")}`);
    const counted = countStoreCalls(realStore);
    storeCalls = counted.calls;
    const oneAnonymousUser = parseRateLimit("anonymousUsersPerAddress", "1/1h");
    if (oneAnonymousUser === false) throw new Error("unreachable");
    server = await createIngestServer({
      schema: testSchema,
      appId,
      store: counted.store,
      quiet: true,
      corsOrigins: [app, otherApp],
      // One anonymous user per address: preflights to the login must not spend it.
      authLimits: { anonymousUsersPerAddress: oneAnonymousUser },
      // No sweep during the test: its store calls would blur the count.
      authSweepIntervalMs: 0,
    });
  });
  afterAll(async () => {
    await server?.close();
    await realStore?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("answers a listed origin's preflight on every auth and ingest route, and /health, with 204 and the route's methods", async () => {
    for (const [route, methods] of corsRoutes) {
      for (const origin of [app, otherApp]) {
        const answer = await preflight(server.url, route, origin, methods.split(", ")[0]);
        expect({ route, status: answer.status }).toEqual({ route, status: 204 });
        expectAllowed(answer, origin);
        expect(answer.headers["access-control-allow-methods"]).toBe(methods);
        expect(answer.headers["access-control-allow-headers"]).toBe("authorization, content-type, accept");
        expect(answer.headers["access-control-max-age"]).toBe(String(corsMaxAgeSeconds));
        expect(answer.body).toBe("");
      }
    }
    // What the runtime sends is what the preflight allows: the list is exactly its headers.
    expect([...corsAllowedHeaders].sort()).toEqual(["accept", "authorization", "content-type"]);
  });

  it("preflights never reach the store, the body or the rate limits", async () => {
    const rowsBefore = await realStore.countRows();
    const callsBefore = storeCalls();
    const batch = encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) }]);
    for (let i = 0; i < 5; i++) {
      // A preflight with a body and a token (browsers send neither): still only the preflight.
      const answer = await send(
        server.url,
        "OPTIONS",
        ingestPath(appId),
        { origin: app, "access-control-request-method": "POST", authorization: "Bearer not-a-token", "content-type": "application/bson" },
        batch,
      );
      expect(answer.status).toBe(204);
      expect((await preflight(server.url, anonLogin, app)).status).toBe(204);
      expect((await preflight(server.url, `${api}/auth/session`, app, "DELETE")).status).toBe(204);
    }
    expect(storeCalls()).toBe(callsBefore);
    expect(await realStore.countRows()).toEqual(rowsBefore);
    // Ten preflights to the anonymous login spent none of its one login per address.
    const login = await send(server.url, "POST", anonLogin, { origin: app, "content-type": "application/json" }, "{}");
    expect(login.status).toBe(200);
    expectAllowed(login, app);
    // The count is live: the login itself went to the store.
    expect(storeCalls()).toBeGreaterThan(callsBefore);
    const second = await send(server.url, "POST", anonLogin, { origin: app, "content-type": "application/json" }, "{}");
    expect(second.status).toBe(429);
    // The 429's Retry-After is readable by the page: named in the exposed headers.
    expectAllowed(second, app);
    expect(second.headers["retry-after"]).toMatch(/^\d+$/);
  });

  it("refuses an unlisted origin's preflight as any unknown method: 404, no CORS header", async () => {
    for (const [route] of corsRoutes) {
      const answer = await preflight(server.url, route, stranger);
      expect({ route, status: answer.status }).toEqual({ route, status: 404 });
      expect(corsHeadersOf(answer)).toEqual({});
      // The answer still varies by Origin, for caches.
      expect(answer.headers["vary"]).toBe("Origin");
    }
    // Near misses of a listed origin are other origins.
    for (const near of ["https://app.example.com:8443", "http://app.example.com", "https://APP.example.com", "https://app.example.com/"]) {
      const answer = await preflight(server.url, ingestPath(appId), near);
      expect({ near, status: answer.status }).toEqual({ near, status: 404 });
      expect(corsHeadersOf(answer)).toEqual({});
    }
  });

  it("answers a listed origin's OPTIONS that is not a preflight, or on another route, as today: 404", async () => {
    const plain = await send(server.url, "OPTIONS", ingestPath(appId), { origin: app });
    expect(plain.status).toBe(404);
    const location = await preflight(server.url, `${api}/app/${appId}/location`, app, "GET");
    expect(location.status).toBe(404);
    expect(location.headers["access-control-allow-methods"]).toBeUndefined();
    const unknown = await preflight(server.url, `${api}/app/${appId}/ingest/extra`, app);
    expect(unknown.status).toBe(404);
  });

  it("puts the CORS headers on every actual answer to a listed origin, errors included, and none for another", async () => {
    const user = await loginAnonymousAgain(server.url);
    const batch = encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(7) }]);
    const bson = { "content-type": "application/bson", accept: "application/bson" };
    const cases: [string, (origin: string) => Promise<Answer>, number][] = [
      ["ingest", (origin) => send(server.url, "POST", ingestPath(appId), { origin, ...bson, authorization: `Bearer ${user}` }, batch), 200],
      ["ingest without a token", (origin) => send(server.url, "POST", ingestPath(appId), { origin, ...bson }, batch), 401],
      ["ingest of a bad body", (origin) => send(server.url, "POST", ingestPath(appId), { origin, ...bson, authorization: `Bearer ${user}` }, "not bson"), 400],
      ["wrong password", (origin) => send(server.url, "POST", userpassLogin, { origin, "content-type": "application/json" }, '{"username":"a@b.c","password":"wrong-password"}'), 401],
      ["login with a bad body", (origin) => send(server.url, "POST", userpassLogin, { origin, "content-type": "application/json" }, "{"), 400],
      ["health", (origin) => send(server.url, "GET", "/health", { origin }), 200],
      ["wrong app id", (origin) => send(server.url, "POST", ingestPath("other-app"), { origin, ...bson }, batch), 404],
    ];
    for (const [name, request, status] of cases) {
      const allowed = await request(app);
      expect({ name, status: allowed.status }).toEqual({ name, status });
      expectAllowed(allowed, app);
      const refused = await request(stranger);
      expect({ name, status: refused.status }).toEqual({ name, status });
      expect(corsHeadersOf(refused)).toEqual({});
    }
  });
});

/** A fresh anonymous user's access token (the limit of one per address is spent: log in from another loopback address). */
async function loginAnonymousAgain(baseUrl: string): Promise<string> {
  // 127.0.0.2 is loopback too on Linux, and another client address for the throttle.
  const answer = await new Promise<Answer>((resolve, reject) => {
    const request = http.request(
      `${baseUrl}${anonLogin}`,
      { method: "POST", headers: { "content-type": "application/json" }, localAddress: "127.0.0.2" },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    request.on("error", reject);
    request.end("{}");
  });
  if (answer.status !== 200) throw new Error(`anonymous login failed: ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body) as { access_token: string }).access_token;
}

describe("CORS without a list", () => {
  let dir: string;
  let server: IngestServer;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-cors-off-"));
    server = await createIngestServer({ schema: testSchema, appId, store: `sqlite:${path.join(dir, "ingest.sqlite")}`, quiet: true, authSweepIntervalMs: 0 });
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("sends no CORS header and no Vary, and answers a preflight with 404", async () => {
    for (const [route] of corsRoutes) {
      const answer = await preflight(server.url, route, app);
      expect({ route, status: answer.status }).toEqual({ route, status: 404 });
      expect(corsHeadersOf(answer)).toEqual({});
      expect(answer.headers["vary"]).toBeUndefined();
    }
    const { access_token: token } = await loginAnonymous(server.url, appId);
    const batch = encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) }]);
    const headers = { origin: app, "content-type": "application/bson", authorization: `Bearer ${token}` };
    const ingest = await send(server.url, "POST", ingestPath(appId), headers, batch);
    expect(ingest.status).toBe(200);
    expect(corsHeadersOf(ingest)).toEqual({});
    expect(ingest.headers["vary"]).toBeUndefined();
  });
});

describe("CORS origins are checked", () => {
  let dir: string;
  let schema: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-cors-settings-"));
    schema = path.join(dir, "schema.json");
    fs.writeFileSync(schema, JSON.stringify(testSchema));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("from the flag (repeated), the config file and ASYMGEN_CORS_ORIGIN, flags over the file over the environment", () => {
    expect(resolveServeSettings({ schema, appId: "a" }, {}).corsOrigins).toEqual([]);
    expect(resolveServeSettings({ schema, appId: "a", corsOrigin: app }, {}).corsOrigins).toEqual([app]);
    expect(resolveServeSettings({ schema, appId: "a", corsOrigin: [app, otherApp] }, {}).corsOrigins).toEqual([app, otherApp]);
    expect(resolveServeSettings({ schema, appId: "a" }, { ASYMGEN_CORS_ORIGIN: `${app}, ${otherApp}` }).corsOrigins).toEqual([app, otherApp]);
    const config = path.join(dir, "asymgen.config.json");
    fs.writeFileSync(config, JSON.stringify({ serve: { schema, appId: "a", corsOrigin: ["http://[::1]:3000", "https://xn--bcher-kva.example"] } }));
    expect(resolveServeSettings({ config }, { ASYMGEN_CORS_ORIGIN: app }).corsOrigins).toEqual(["http://[::1]:3000", "https://xn--bcher-kva.example"]);
    expect(resolveServeSettings({ config, corsOrigin: otherApp }, { ASYMGEN_CORS_ORIGIN: app }).corsOrigins).toEqual([otherApp]);
  });

  it("refuses anything but an exact origin, naming every bad one in one error", () => {
    const refused = (corsOrigin: string | string[]) => () => resolveServeSettings({ schema, appId: "a", corsOrigin }, {});
    expect(refused("*")).toThrow(/^--cors-origin: a wildcard is refused: these routes take credentials \(Authorization: Bearer …\), .*list each app's origin, got "\*"$/);
    expect(refused("https://*.example.com")).toThrow(/--cors-origin: a wildcard is refused/);
    expect(refused("null")).toThrow(/--cors-origin: the origin "null" is refused: any page can send it/);
    expect(refused("https://app.example.com/")).toThrow(/no path, query or trailing slash .*: https:\/\/app\.example\.com, as the browser sends it, got "https:\/\/app\.example\.com\/"$/);
    expect(refused("https://app.example.com/dashboard")).toThrow(/expected an exact origin/);
    expect(refused("https://App.Example.com")).toThrow(/expected an exact origin.*: https:\/\/app\.example\.com, as the browser sends it/);
    expect(refused("HTTPS://app.example.com")).toThrow(/expected an exact origin/);
    expect(refused("https://app.example.com:443")).toThrow(/no default port: https:\/\/app\.example\.com, as/);
    expect(refused("ftp://files.example.com")).toThrow(/expected an http:\/\/ or https:\/\/ origin/);
    expect(refused("app.example.com")).toThrow(/expected an origin such as https:\/\/app\.example\.com \(scheme:\/\/host\[:port\]\), got "app\.example\.com"/);
    expect(refused("")).toThrow(/expected an origin such as/);
    // Two bad ones among good ones: both named in the one line.
    const both = refused([app, "*", "https://b.example/", otherApp]);
    expect(both).toThrow(/--cors-origin: a wildcard .*got "\*"; --cors-origin: expected an exact origin.*got "https:\/\/b\.example\/"$/);
    expect(() => resolveServeSettings({ schema, appId: "a" }, { ASYMGEN_CORS_ORIGIN: `${app},*` })).toThrow(/^ASYMGEN_CORS_ORIGIN: a wildcard is refused/);
    const config = path.join(dir, "bad.config.json");
    fs.writeFileSync(config, JSON.stringify({ serve: { schema, appId: "a", corsOrigin: [app, 7] } }));
    expect(() => resolveServeSettings({ config }, {})).toThrow(/bad\.config\.json: serve\.corsOrigin: expected origins such as https:\/\/app\.example\.com/);
  });

  it("createIngestServer refuses a bad origin before it opens anything", async () => {
    const store = path.join(dir, "never.sqlite");
    await expect(createIngestServer({ schema: testSchema, appId, store: `sqlite:${store}`, quiet: true, corsOrigins: [app, "*"] })).rejects.toThrow(
      /^CORS origin "\*": a wildcard is refused/,
    );
    expect(fs.existsSync(store)).toBe(false);
  });
});

describe("asymgen serve --cors-origin", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-cors-cli-"));
    fs.writeFileSync(path.join(dir, "schema.json"), JSON.stringify(testSchema));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("takes the flag repeated: both origins get their preflight", async () => {
    const args = ["--app-id", appId, "--port", "0", "--store", `sqlite:${path.join(dir, "ingest.sqlite")}`, "--quiet", "--cors-origin", app, "--cors-origin", otherApp];
    const server = await spawnIngestServer(args, {}, dir);
    try {
      for (const origin of [app, otherApp]) {
        const answer = await preflight(server.url, ingestPath(appId), origin);
        expect(answer.status).toBe(204);
        expectAllowed(answer, origin);
      }
      expect(corsHeadersOf(await preflight(server.url, ingestPath(appId), stranger))).toEqual({});
    } finally {
      server.child.kill("SIGKILL");
      await server.exited;
    }
  });

  it("exits 2 on a bad origin, naming it, without starting", async () => {
    const result = await new Promise<{ code: number; stderr: string; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [cliPath, "serve", "--app-id", appId, "--store", `sqlite:${path.join(dir, "bad.sqlite")}`, "--cors-origin", app, "--cors-origin", "*"],
        { cwd: dir },
        (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr }),
      );
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^asymgen: --cors-origin: a wildcard is refused: .*got "\*"\n/);
    expect(result.stdout).not.toMatch(/listening/);
    expect(fs.existsSync(path.join(dir, "bad.sqlite"))).toBe(false);
  });
});
