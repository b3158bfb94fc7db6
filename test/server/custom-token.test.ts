/**
 * Custom-token (custom JWT) login over real HTTP on a real SQLite store: each way a forged, stale
 * or misconfigured token got in before (issue 10, attack 1) is refused, at startup when the
 * configuration is the problem and with a 401 when the token is; RS256, ES256, EdDSA and a
 * rotating JWKS served over loopback log in.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import { callJson, testSchema } from "../support/ingest-server-fixtures.js";
import { epochSeconds, freshTimes, signTestJwt } from "../support/sign-test-jwt.js";
import type { TestSigningKey } from "../support/sign-test-jwt.js";

const appId = "custom-token-app";
const loginPath = `/api/client/v2.0/app/${appId}/auth/providers/custom-token/login`;
const hsSecret = "a-custom-token-secret-of-40-bytes-length";
const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
const ed = crypto.generateKeyPairSync("ed25519");
const spki = (key: crypto.KeyObject) => key.export({ type: "spki", format: "pem" }).toString();
const rsaPem = spki(rsa.publicKey);

/** Claims that pass every check: a subject, issued now, expiring in 10 minutes. */
const claims = (extra: Record<string, unknown> = {}) => ({ sub: "device-1", ...freshTimes(), ...extra });

/** The settings `createIngestServer` takes under `auth.customToken` (raw, as the CLI gives them). */
type CustomTokenSettings = Record<string, unknown>;

let dir: string;
let store: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-custom-token-"));
  store = `sqlite:${path.join(dir, "ingest.sqlite")}`;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function startServer(customToken: CustomTokenSettings, logger?: { log(level: string, msg: string): void }): Promise<IngestServer> {
  return createIngestServer({
    schema: testSchema,
    appId,
    store,
    ...(logger ? { logger } : { quiet: true }),
    auth: { providers: ["jwt"], customToken } as never,
  });
}

/** Starts a server with `customToken`, runs `body` with a login function, and closes it. */
async function withServer(
  customToken: CustomTokenSettings,
  body: (login: (token: string) => Promise<{ status: number; json: Record<string, unknown> }>, server: IngestServer) => Promise<void>,
  logger?: { log(level: string, msg: string): void },
): Promise<void> {
  const server = await startServer(customToken, logger);
  try {
    await body((token) => callJson(server.url, "POST", loginPath, { body: { token } }), server);
  } finally {
    await server.close();
  }
}

const hs256 = (extra: Record<string, unknown> = {}, key: TestSigningKey = hsSecret, header: Record<string, unknown> = {}) =>
  signTestJwt({ alg: "HS256", ...header }, claims(extra), key);

function writeFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe("custom-token settings that are refused at startup", () => {
  const cases: [string, CustomTokenSettings, RegExp][] = [
    [
      "a PEM public key used as an HS256 secret",
      { key: rsaPem, algorithm: "HS256" },
      /^--jwt-algorithm HS256 with --jwt-key \(inline PEM\): an RSA public key is no HMAC secret/,
    ],
    ["a mistyped key path (it used to become the secret)", { key: "./keys/pub.pem" }, /^--jwt-key \.\/keys\/pub\.pem: no such file$/],
    [
      "a missing absolute key path without a key's extension (it used to become the HS256 secret)",
      { key: "/etc/asymgen/custom-token-hmac-secret" },
      /^--jwt-key \/etc\/asymgen\/custom-token-hmac-secret: no such file/,
    ],
    [
      "an inline HMAC secret as the key (a secret goes in a key file or `secret`)",
      { key: hsSecret },
      /^--jwt-key \(a value of 40 characters, not shown\): no such file/,
    ],
    ["an inline \"oct\" JWK as the key", { key: JSON.stringify({ kty: "oct", k: Buffer.from(hsSecret).toString("base64url") }) }, /^--jwt-key \(inline JWK\): an "oct" JWK is an HMAC secret/],
    ["a secret and a key", { secret: hsSecret, key: rsaPem }, /^customToken\.secret and --jwt-key: give one of them, not both$/],
    ["a secret and a JWKS URL", { secret: hsSecret, jwksUrl: "https://keys.example/jwks.json", audience: "a" }, /^customToken\.secret and --jwt-jwks-url: give one of them, not both$/],
    ["a missing key file named without a directory", { key: "pub.pem" }, /^--jwt-key pub\.pem: no such file$/],
    ["a missing key file under ~", { key: "~/no-such-dir/pub.pem" }, /^--jwt-key ~\/no-such-dir\/pub\.pem: no such file$/],
    ["an HS256 secret shorter than 32 bytes", { secret: "x".repeat(31) }, /an HS256 secret must be at least 32 bytes, got 31/],
    [
      "an HS512 secret shorter than 64 bytes",
      { secret: "x".repeat(40), algorithm: "HS512" },
      /an HS512 secret must be at least 64 bytes, got 40/,
    ],
    [
      "a private key (the server only verifies)",
      { key: rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString() },
      /holds a private key/,
    ],
    [
      "an RSA key under 2048 bits",
      { key: spki(crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey) },
      /an RSA key of 1024 bits is too short/,
    ],
    ["an RS256 algorithm with a secret", { secret: hsSecret, algorithm: "RS256" }, /--jwt-algorithm RS256 needs a public key/],
    ["an algorithm in lower case", { key: rsaPem, algorithm: "rs256" }, /^--jwt-algorithm rs256: expected one of HS256, /],
    ["an EC P-256 key with ES384", { key: spki(ec.publicKey), algorithm: "ES384" }, /an EC prime256v1 public key verifies ES256/],
    ["both a key and a JWKS URL", { key: rsaPem, jwksUrl: "https://keys.example/jwks.json", audience: "a" }, /give one of them, not both/],
    [
      "a JWKS over plain http to another host",
      { jwksUrl: "http://keys.example/jwks.json", audience: "a" },
      /^--jwt-jwks-url http:\/\/keys\.example\/jwks\.json: must be https/,
    ],
    ["a JWKS URL without an audience", { jwksUrl: "https://keys.example/jwks.json" }, /needs --jwt-audience/],
    [
      "a clock tolerance over 5 minutes",
      { secret: hsSecret, clockToleranceMs: 600_000 },
      /^--jwt-clock-tolerance 600s: must be from 0s to 300s$/,
    ],
    ["a maximum token age over 30 days", { secret: hsSecret, maxTokenAgeMs: 31 * 86_400_000 }, /^--jwt-max-token-age 2678400s: must be from/],
    ["neither a key nor a JWKS URL", {}, /needs a key: --jwt-key FILE, a secret \(ASYMGEN_JWT_SECRET\) or --jwt-jwks-url URL/],
  ];
  it.each(cases)("refuses %s", async (_name, settings, message) => {
    await expect(startServer(settings)).rejects.toThrow(message);
  });

  it("never prints a secret in an error, whether given as the secret or by mistake as the key", async () => {
    const secret = "too-short-but-secret";
    const error = await startServer({ secret }).catch((caught: unknown) => caught as Error);
    expect((error as Error).message).toMatch(/^customToken\.secret \(a secret of 20 bytes\): an HS256 secret must be at least 32 bytes, got 20/);
    expect((error as Error).message).not.toContain(secret);
    // Base64 with a slash, as `openssl rand -base64 32` mostly gives: no path, so not echoed.
    const base64 = "q8Zr/9xTAbc+defGhijKlmnOpqrStuvWxyz0123456T0w=";
    const asKey = await startServer({ key: base64 }).catch((caught: unknown) => caught as Error);
    expect((asKey as Error).message).toMatch(new RegExp(`^--jwt-key \\(a value of ${base64.length} characters, not shown\\): no such file; an HMAC secret goes in a key file`));
    expect((asKey as Error).message).not.toContain(base64);
    // Even one that starts with "/" (1 in 64 of them): no path under a directory that exists.
    const rooted = await startServer({ key: `/${base64}` }).catch((caught: unknown) => caught as Error);
    expect((rooted as Error).message).toMatch(new RegExp(`^--jwt-key \\(a value of ${base64.length + 1} characters, not shown\\): no such file`));
  });

  it("takes the secret verbatim: a base64 secret with a slash, a secret that names an existing file, bytes", async () => {
    const base64 = "q8Zr/9xTAbc+defGhijKlmnOpqrStuvWxyz0123456T0w=";
    // A secret that is also the path of a file (of another secret): never read.
    const pathLike = writeFile("decoy-secret-file-with-a-long-name", "d".repeat(40));
    const bytes = crypto.randomBytes(32);
    for (const secret of [base64, pathLike, bytes]) {
      await withServer({ secret }, async (login) => {
        const key = typeof secret === "string" ? Buffer.from(secret) : secret;
        expect((await login(signTestJwt({ alg: "HS256" }, claims(), key))).status).toBe(200);
        expect((await login(signTestJwt({ alg: "HS256" }, claims({ sub: "never-stored" }), Buffer.from("d".repeat(40))))).status).toBe(401);
      });
    }
  });
});

describe("custom-token login with a public key", () => {
  it("refuses a token signed with the public key's PEM text as an HS256 secret, and takes RS256 from the key", async () => {
    // The attack: `--jwt-key pub.pem` without --jwt-algorithm kept HS256 and the PEM
    // text was the HMAC secret, so anyone with the public key could sign a token.
    const pemFile = writeFile("pub.pem", rsaPem);
    for (const key of [rsaPem, pemFile]) {
      await withServer({ key }, async (login) => {
        const forged = signTestJwt({ alg: "HS256" }, claims({ sub: "never-stored" }), rsaPem);
        expect(await login(forged)).toMatchObject({
          status: 401,
          json: { error_code: "InvalidSession", error: "invalid custom token: expected a JWT signed with RS256" },
        });
        expect((await login(signTestJwt({ alg: "RS256" }, claims(), rsa.privateKey))).status).toBe(200);
      });
    }
  });

  it("logs in with RS256 and, when chosen, RS384 and PS256 from the same RSA key", async () => {
    await withServer({ key: rsaPem }, async (login) => {
      expect((await login(signTestJwt({ alg: "RS256" }, claims(), rsa.privateKey))).status).toBe(200);
      expect((await login(signTestJwt({ alg: "RS384" }, claims({ sub: "never-stored" }), rsa.privateKey))).status).toBe(401);
    });
    for (const algorithm of ["RS384", "PS256"]) {
      await withServer({ key: rsaPem, algorithm }, async (login) => {
        expect((await login(signTestJwt({ alg: algorithm }, claims(), rsa.privateKey))).status).toBe(200);
        expect((await login(signTestJwt({ alg: "RS256" }, claims({ sub: "never-stored" }), rsa.privateKey))).status).toBe(401);
      });
    }
  });

  it("logs in with ES256 from an EC P-256 key, and EdDSA from an Ed25519 key", async () => {
    await withServer({ key: writeFile("ec.pem", spki(ec.publicKey)) }, async (login) => {
      expect((await login(signTestJwt({ alg: "ES256" }, claims(), ec.privateKey))).status).toBe(200);
      const other = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
      expect((await login(signTestJwt({ alg: "ES256" }, claims({ sub: "never-stored" }), other.privateKey))).json["error"]).toBe(
        "invalid custom token: bad signature",
      );
    });
    await withServer({ key: spki(ed.publicKey) }, async (login) => {
      expect((await login(signTestJwt({ alg: "EdDSA" }, claims(), ed.privateKey))).status).toBe(200);
    });
  });

  it("reads a public JWK file", async () => {
    const jwk = { ...rsa.publicKey.export({ format: "jwk" }), alg: "RS256" };
    await withServer({ key: writeFile("pub.jwk", JSON.stringify(jwk)) }, async (login) => {
      expect((await login(signTestJwt({ alg: "RS256" }, claims(), rsa.privateKey))).status).toBe(200);
    });
  });
});

describe("custom-token claims", () => {
  let server: IngestServer;
  const login = (token: string) => callJson(server.url, "POST", loginPath, { body: { token } });
  beforeAll(async () => {
    // HS256 named explicitly (it is the default for a secret) so that the old verifier, which
    // needed it, runs these same checks.
    server = await startServer({ secret: hsSecret, algorithm: "HS256", audience: "asymgen-test" });
  });
  afterAll(() => server?.close());
  const aud = { aud: "asymgen-test" };

  it("logs in with an intact token, one user per subject", async () => {
    const first = await login(hs256(aud));
    expect(first.status).toBe(200);
    expect((await login(hs256(aud))).json["user_id"]).toBe(first.json["user_id"]);
  });

  it("refuses an exp in the year 5138, and any exp further ahead than the maximum token age", async () => {
    const year5138 = Date.UTC(5138, 0, 1) / 1000;
    expect(await login(hs256({ ...aud, sub: "never-stored", exp: year5138 }))).toMatchObject({
      status: 401,
      json: { error: "invalid custom token: exp is more than the maximum token age (3600s) ahead" },
    });
    expect((await login(hs256({ ...aud, sub: "never-stored", exp: epochSeconds(2 * 3600) }))).status).toBe(401);
  });

  it("refuses a token issued longer ago than the maximum token age, and one without iat", async () => {
    const old = hs256({ ...aud, sub: "never-stored", iat: epochSeconds(-2 * 3600), exp: epochSeconds(600) });
    expect(await login(old)).toMatchObject({
      status: 401,
      json: { error: "invalid custom token: issued more than the maximum token age (3600s) ago (iat)" },
    });
    const noIat = signTestJwt({ alg: "HS256" }, { ...aud, sub: "never-stored", exp: epochSeconds(600) }, hsSecret);
    expect(await login(noIat)).toMatchObject({ status: 401, json: { error: "invalid custom token: no iat claim" } });
    expect((await login(hs256({ ...aud, sub: "never-stored", iat: epochSeconds(3600) }))).status).toBe(401);
  });

  it("honours a 30 s clock tolerance: expired 5 s ago passes, 5 minutes ago fails; nbf 5 s ahead passes", async () => {
    expect((await login(hs256({ ...aud, exp: epochSeconds(-5) }))).status).toBe(200);
    expect(await login(hs256({ ...aud, sub: "never-stored", exp: epochSeconds(-300) }))).toMatchObject({
      status: 401,
      json: { error: "invalid custom token: expired (exp)" },
    });
    expect((await login(hs256({ ...aud, nbf: epochSeconds(5) }))).status).toBe(200);
    expect(await login(hs256({ ...aud, sub: "never-stored", nbf: epochSeconds(300) }))).toMatchObject({
      status: 401,
      json: { error: "invalid custom token: not valid yet (nbf)" },
    });
  });

  it("refuses a crit header naming an extension it does not know", async () => {
    const header = { crit: ["urn:example:must-understand"], "urn:example:must-understand": true };
    const answer = await login(hs256({ ...aud, sub: "never-stored" }, hsSecret, header));
    expect(answer).toMatchObject({ status: 401, json: { error_code: "InvalidSession", error: expect.stringContaining("not recognized") } });
    for (const crit of [[], "exp", [1], ["b64"]]) {
      const odd = await login(hs256({ ...aud, sub: "never-stored" }, hsSecret, { crit, b64: false }));
      expect(odd.status).toBe(401);
    }
  });

  it("requires exp, sub and the configured aud", async () => {
    const without = (claim: string) => {
      const body: Record<string, unknown> = claims({ ...aud, sub: "never-stored" });
      delete body[claim];
      return signTestJwt({ alg: "HS256" }, body, hsSecret);
    };
    for (const claim of ["exp", "sub", "aud"])
      expect(await login(without(claim))).toMatchObject({ status: 401, json: { error: `invalid custom token: no ${claim} claim` } });
    expect((await login(hs256({ aud: "another-app", sub: "never-stored" }))).json["error"]).toBe("invalid custom token: wrong aud");
    expect((await login(hs256({ aud: ["another-app", "asymgen-test"] }))).status).toBe(200);
    expect((await login(hs256({ ...aud, sub: "" }))).status).toBe(401);
    expect((await login(hs256({ ...aud, sub: "x".repeat(513) }))).json["error"]).toBe("invalid custom token: sub is longer than 512 bytes");
  });

  it("stored nothing for any refused token", async () => {
    expect(await server.store.getAuthRecord("identity", "custom-token:never-stored")).toBeNull();
  });
});

describe("custom-token settings", () => {
  it("reads the HS256 secret from a file, without the trailing newline `echo` adds", async () => {
    await withServer({ key: writeFile("hs-secret.txt", `${hsSecret}\n`) }, async (login) => {
      expect((await login(hs256())).status).toBe(200);
    });
  });

  it("takes --jwt-clock-tolerance and --jwt-max-token-age", async () => {
    await withServer({ secret: hsSecret, algorithm: "HS256", clockToleranceMs: 0, maxTokenAgeMs: 3 * 3600_000 }, async (login) => {
      expect((await login(hs256({ sub: "never-stored", exp: epochSeconds(-5) }))).status).toBe(401);
      expect((await login(hs256({ iat: epochSeconds(-2 * 3600), exp: epochSeconds(600) }))).status).toBe(200);
      expect((await login(hs256({ exp: epochSeconds(2 * 3600) }))).status).toBe(200);
    });
  });

  it("warns at startup when neither aud nor iss is checked", async () => {
    const lines: string[] = [];
    const logger = { log: (level: string, msg: string) => lines.push(`${level} ${msg}`) };
    await (await startServer({ secret: hsSecret }, logger)).close();
    expect(lines.filter((line) => line.includes("checks neither aud nor iss"))).toEqual([
      "warn custom-token login checks neither aud nor iss: any unexpired token signed with the HS256 secret given inline logs in, whoever it was issued for (set --jwt-audience and/or --jwt-issuer)",
    ]);
    lines.length = 0;
    await (await startServer({ secret: hsSecret, issuer: "https://issuer.example" }, logger)).close();
    expect(lines.filter((line) => line.includes("aud nor iss"))).toEqual([]);
  });
});

describe("custom-token login with a JWKS URL", () => {
  const keyA = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyB = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const publicJwk = (key: crypto.KeyObject, kid: string) => ({ ...key.export({ format: "jwk" }), kid, use: "sig" });
  let published: Record<string, unknown>[] = [];
  let fetches = 0;
  let jwksServer: http.Server;
  let jwksUrl: string;

  beforeAll(async () => {
    jwksServer = http.createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { "content-type": "application/jwk-set+json" }).end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => (jwksServer.listening ? jwksServer.close(() => resolve()) : resolve())));

  it("follows a key rotation, refuses the retired key, and answers 503 while the JWKS is unreachable", async () => {
    const aud = "asymgen-test";
    const logged: { level: string; msg: string; fields: unknown }[] = [];
    const logger = { log: (level: string, msg: string, fields?: unknown) => void logged.push({ level, msg, fields }) };
    await withServer({ jwksUrl, audience: aud, jwksCooldownMs: 0 }, async (login) => {
      published = [publicJwk(keyA.publicKey, "a")];
      const tokenA = signTestJwt({ alg: "RS256", kid: "a" }, claims({ aud }), keyA.privateKey);
      expect((await login(tokenA)).status).toBe(200);
      expect((await login(tokenA)).status).toBe(200);
      expect(fetches).toBe(1);

      // Rotation: the provider now publishes only key B (another kid, another algorithm).
      published = [publicJwk(keyB.publicKey, "b")];
      const tokenB = signTestJwt({ alg: "ES256", kid: "b" }, claims({ aud }), keyB.privateKey);
      expect((await login(tokenB)).status).toBe(200);
      expect(fetches).toBe(2);
      expect(await login(signTestJwt({ alg: "RS256", kid: "a" }, claims({ aud, sub: "never-stored" }), keyA.privateKey))).toMatchObject({
        status: 401,
        json: { error: "invalid custom token: no key of the JWKS matches the token's kid and alg" },
      });
      // A JWKS never lends itself to HS256, even with a kid it holds.
      expect((await login(signTestJwt({ alg: "HS256", kid: "b" }, claims({ aud, sub: "never-stored" }), hsSecret))).status).toBe(401);

      await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
      const unknownKid = signTestJwt({ alg: "ES256", kid: "c" }, claims({ aud, sub: "never-stored" }), keyB.privateKey);
      const answer = await login(unknownKid);
      // The caller hears that the keys are unavailable, not where they live; the operator's log has the detail.
      expect(answer).toMatchObject({
        status: 503,
        json: { error_code: "ServiceUnavailable", error: "custom token not checked: the server cannot read its signing keys right now" },
      });
      expect(logged).toContainEqual({
        level: "error",
        msg: "custom-token login: cannot read the JWKS",
        fields: { reason: expect.stringContaining("cannot read the JWKS at http://127.0.0.1:") },
      });
    }, logger);
  });
});
