/**
 * Where the access-token secret lives (outside the data store), file modes of what the server
 * creates, HTTPS, and the warning for plain HTTP beyond loopback.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import type { Logger } from "../../server/logger.js";
import { openStore } from "../../server/stores/open-store.js";
import { encodeBatch, loginAnonymous, makeWeatherDoc, newQueueId, postIngest, testSchema } from "../support/ingest-server-fixtures.js";

const appId = "hardened";

/** Runs `body` with the process umask set to `mask` (0: files get exactly the mode they ask for, or 0666 by default). */
async function withUmask<T>(mask: number, body: () => Promise<T>): Promise<T> {
  const previous = process.umask(mask);
  try {
    return await body();
  } finally {
    process.umask(previous);
  }
}

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

/** A logger that keeps what it is told. */
function recordingLogger(): Logger & { lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  return { lines, log: (level, message) => void lines.push({ level, message }) };
}

describe("the access-token secret and the files the server creates", () => {
  let dir: string;
  const servers: IngestServer[] = [];
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-secret-"));
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function start(name: string, auth: Parameters<typeof createIngestServer>[0]["auth"], logger: Logger = recordingLogger()): Promise<IngestServer> {
    const server = await createIngestServer({ schema: testSchema, appId, store: `sqlite:${path.join(dir, name, "ingest.sqlite")}`, auth, logger });
    servers.push(server);
    return server;
  }

  it("keeps no secret in the store, and removes the one older versions kept there", async () => {
    const storeUrl = `sqlite:${path.join(dir, "legacy", "ingest.sqlite")}`;
    const legacy = await openStore(storeUrl);
    await legacy.prepare(testSchema);
    await legacy.putAuthRecord("secret", "access-token", JSON.stringify("c2VjcmV0LWluLXRoZS1zdG9yZQ=="), true);
    await legacy.close();
    const logger = recordingLogger();
    const server = await start("legacy", {}, logger);
    const login = await loginAnonymous(server.url, appId);
    expect(login.access_token).toEqual(expect.any(String));
    expect(await server.store.getAuthRecord("secret", "access-token")).toBeNull();
    expect(logger.lines.map((line) => line.message)).toContainEqual(expect.stringMatching(/removed the access-token secret that older versions kept in the store/));
  });

  it("creates the secret file 0600 whatever the umask, and a second server reading it accepts the first one's tokens", async () => {
    const secretFile = path.join(dir, "keys", "access-token.key");
    await withUmask(0, async () => {
      const first = await start("shared-a", { secretFile });
      expect(modeOf(secretFile)).toBe(0o600);
      expect(fs.readFileSync(secretFile, "utf8").trim()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      const login = await loginAnonymous(first.url, appId);
      const second = await createIngestServer({ schema: testSchema, appId, store: first.store, auth: { secretFile }, quiet: true });
      servers.push(second);
      const body = encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) }]);
      expect((await postIngest(second.url, appId, login.access_token, body)).status).toBe(200);
    });
  });

  it("does not accept another server's tokens without its secret: the store alone does not let anyone mint them", async () => {
    const first = await start("unshared", {});
    const login = await loginAnonymous(first.url, appId);
    const second = await createIngestServer({ schema: testSchema, appId, store: first.store, quiet: true });
    servers.push(second);
    const body = encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) }]);
    expect((await postIngest(second.url, appId, login.access_token, body)).status).toBe(401);
  });

  it("refuses a secret shorter than 32 bytes, from the environment or a file", async () => {
    await expect(start("short-env", { secret: "too-short" })).rejects.toThrow(/at least 32 bytes \(it has 9\)/);
    const secretFile = path.join(dir, "short.key");
    fs.writeFileSync(secretFile, "short\n", { mode: 0o600 });
    await expect(start("short-file", { secretFile })).rejects.toThrow(/secret in .*short\.key must be at least 32 bytes/);
  });

  it("refuses a secret file that is a link to nowhere with one clear error, leaving no copy of a secret behind", async () => {
    const keys = path.join(dir, "dangling-keys");
    fs.mkdirSync(keys);
    const secretFile = path.join(keys, "access-token.key");
    fs.symlinkSync(path.join(dir, "no-such-target"), secretFile);
    await expect(start("dangling", { secretFile })).rejects.toThrow(/access-token secret file .*access-token\.key is a link to a file that does not exist/);
    expect(fs.readdirSync(keys)).toEqual(["access-token.key"]);
  });

  it("creates the SQLite data file and its WAL 0600 and its folder 0700, whatever the umask", async () => {
    await withUmask(0, async () => {
      const server = await start("modes", {});
      const login = await loginAnonymous(server.url, appId);
      const body = encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) }]);
      expect((await postIngest(server.url, appId, login.access_token, body)).status).toBe(200);
      const file = path.join(dir, "modes", "ingest.sqlite");
      expect(modeOf(file)).toBe(0o600);
      expect(modeOf(`${file}-wal`)).toBe(0o600);
      expect(modeOf(path.dirname(file))).toBe(0o700);
    });
  });
});

describe("HTTPS and plain HTTP beyond loopback", () => {
  let dir: string;
  let tls: { cert: string; key: string };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-tls-"));
    const keyFile = path.join(dir, "key.pem");
    const certFile = path.join(dir, "cert.pem");
    // A self-signed certificate for 127.0.0.1; the client trusts it as its CA.
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", keyFile, "-out", certFile,
    ], { stdio: "ignore" });
    tls = { cert: fs.readFileSync(certFile, "utf8"), key: fs.readFileSync(keyFile, "utf8") };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function getHealth(url: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      https
        // No shared agent: its options (another test's `ca`) would override this request's.
        .get(`${url}/health`, { ca: tls.cert, agent: false }, (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on("error", reject);
    });
  }

  it("serves HTTPS with --tls-cert/--tls-key, and plain HTTP to that port gets no answer", async () => {
    const server = await createIngestServer({ schema: testSchema, appId, store: `sqlite:${path.join(dir, "tls.sqlite")}`, tls, quiet: true });
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await getHealth(server.url)).toEqual({ status: 200, body: expect.stringContaining('"ok"') });
      await expect(fetch(`${server.url.replace("https", "http")}/health`)).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it("warns loudly when it listens beyond loopback without TLS, and not on loopback or with TLS", async () => {
    const stderr = captureStderr();
    try {
      for (const [host, withTls, warned] of [
        ["0.0.0.0", false, true],
        ["127.0.0.1", false, false],
        ["0.0.0.0", true, false],
      ] as const) {
        const logger = recordingLogger();
        const server = await createIngestServer({
          schema: testSchema,
          appId,
          host,
          store: `sqlite:${path.join(dir, "warn.sqlite")}`,
          logger,
          ...(withTls ? { tls } : {}),
        });
        await server.close();
        const warnings = logger.lines.filter((line) => line.level === "warn" && /plain HTTP/.test(line.message));
        expect({ host, withTls, warned: warnings.length > 0 }).toEqual({ host, withTls, warned });
        if (warned) expect(warnings[0]?.message).toMatch(/Anonymous login is on: anyone who can reach this port can write data/);
      }
      expect(stderr.text()).toMatch(/^asymgen: WARNING: listening on 0\.0\.0\.0 over plain HTTP/m);
    } finally {
      stderr.restore();
    }
  });
});

/** Captures what is written to stderr until `restore`. */
function captureStderr(): { text(): string; restore(): void } {
  const write = process.stderr.write.bind(process.stderr);
  let captured = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    captured += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  return { text: () => captured, restore: () => void (process.stderr.write = write) };
}
