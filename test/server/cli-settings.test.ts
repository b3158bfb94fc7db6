/**
 * `asymgen serve` settings: flags over the config file over the environment over defaults.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { resolveServeSettings } from "../../server/serve-settings.js";
import { testSchema } from "../support/ingest-server-fixtures.js";

describe("resolveServeSettings", () => {
  let dir: string;
  let schema: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-settings-"));
    schema = path.join(dir, "schema.json");
    fs.writeFileSync(schema, JSON.stringify(testSchema));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("defaults: anonymous, email/password and API keys; 30 min / 60 days; the embedded SQLite store", () => {
    const settings = resolveServeSettings({ schema, appId: "a" });
    expect([...settings.auth.providers].sort()).toEqual(["anon-user", "api-key", "local-userpass"]);
    expect(settings.auth.accessTokenTtlMs).toBe(30 * 60_000);
    expect(settings.auth.refreshTokenTtlMs).toBe(60 * 86_400_000);
    expect(settings.store).toBe("sqlite:./asymgen-data/ingest.sqlite");
    expect(settings.host).toBe("127.0.0.1");
  });

  it("reads the config file's serve section, reads a JWT key file, and lets flags win", () => {
    const keyFile = path.join(dir, "key.txt");
    fs.writeFileSync(keyFile, "file-secret-of-at-least-32-bytes!\n");
    const config = path.join(dir, "asymgen.config.json");
    fs.writeFileSync(
      config,
      JSON.stringify({
        generate: { outDir: "x" },
        serve: { schema, appId: "from-file", port: 9000, auth: ["jwt"], jwtKey: keyFile, accessTokenTtl: "2s", maxBatchDocuments: 5 },
      }),
    );
    const settings = resolveServeSettings({ config, port: 1234 });
    expect(settings.appId).toBe("from-file");
    expect(settings.port).toBe(1234);
    expect([...settings.auth.providers]).toEqual(["custom-token"]);
    expect(settings.auth.customToken).toMatchObject({ algorithms: ["HS256"], keySource: expect.stringContaining(keyFile) });
    expect(Buffer.from(settings.auth.customToken?.key as Uint8Array).toString()).toBe("file-secret-of-at-least-32-bytes!");
    expect(settings.auth.accessTokenTtlMs).toBe(2000);
    expect(settings.limits).toEqual({ maxBatchDocuments: 5 });
    expect(resolveServeSettings({ config, auth: "anon,userpass" }).auth.providers).toEqual(new Set(["anon-user", "local-userpass"]));
  });

  it("reads the custom-token issuer and the memory bounds", () => {
    const settings = resolveServeSettings({
      schema,
      appId: "a",
      auth: "jwt",
      jwtIssuer: "https://issuer.example",
      jwtClockTolerance: "10s",
      jwtMaxTokenAge: "15m",
      maxInFlightBytes: 128 * 1024 * 1024,
      maxInFlightPerUser: 2,
      bodyReadTimeout: "5s",
    }, { ASYMGEN_JWT_SECRET: "an-inline-secret-of-32-bytes-or-more" });
    expect(settings.auth.customToken).toMatchObject({
      algorithms: ["HS256"],
      issuer: "https://issuer.example",
      clockToleranceSeconds: 10,
      maxTokenAgeSeconds: 900,
    });
    expect(settings.limits).toEqual({ maxInFlightBytes: 128 * 1024 * 1024, maxInFlightPerUser: 2, bodyReadTimeoutMs: 5000 });
    expect(() => resolveServeSettings({ schema, appId: "a", maxBatchBytes: 2048, maxInFlightBytes: 1024 })).toThrow(/at least maxBatchBytes/);
  });

  it("checks the config file against its schema: each error names the file, the key and the value", () => {
    const configWith = (serve: Record<string, unknown>) => {
      const file = path.join(dir, "checked.config.json");
      fs.writeFileSync(file, JSON.stringify({ serve: { schema, appId: "a", ...serve } }));
      return () => resolveServeSettings({ config: file }, {});
    };
    expect(configWith({ port: "80x" })).toThrow(/checked\.config\.json: serve\.port: expected an integer from 0 to 65535, got "80x"$/);
    expect(configWith({ port: 70000 })).toThrow(/serve\.port: expected an integer from 0 to 65535, got 70000/);
    expect(configWith({ jwtAlgorithm: "rs256", jwtKey: "k".repeat(32) })).toThrow(/serve\.jwtAlgorithm: expected one of HS256, .*RS256.*EdDSA \(as spelt here\), got "rs256"/);
    // The key decides the algorithm: a mistyped key path is an error, never the secret itself.
    expect(configWith({ auth: "jwt", jwtKey: "./keys/pub.pem" })).toThrow(/--jwt-key \.\/keys\/pub\.pem: no such file/);
    expect(configWith({ maxInFlight: 0 })).toThrow(/serve\.maxInFlight: expected a positive integer, got 0/);
    expect(configWith({ maxBatchBytes: 1.5 })).toThrow(/serve\.maxBatchBytes: expected a positive integer, got 1\.5/);
    expect(configWith({ quiet: "yes" })).toThrow(/serve\.quiet: expected true or false, got "yes"/);
    expect(configWith({ logLevel: "verbose" })).toThrow(/serve\.logLevel: expected "debug", "info", "warn" or "error", got "verbose"/);
    expect(configWith({ accessTokenTtl: "soon" })).toThrow(/serve\.accessTokenTtl: expected a duration with its unit, such as 500ms, 30s/);
    // No unit, no guess: 30 meant as seconds would have been a 30 ms body timeout.
    expect(configWith({ bodyReadTimeout: 30 })).toThrow(/serve\.bodyReadTimeout: expected a duration with its unit, .*got 30$/);
    expect(configWith({ authSweepInterval: "600" })).toThrow(/serve\.authSweepInterval: expected a duration with its unit, .*got "600"$/);
    expect(resolveServeSettings({ schema, appId: "a", authSweepInterval: "0" }, {}).authSweepIntervalMs).toBe(0);
    expect(configWith({ auth: 7 })).toThrow(/serve\.auth: expected provider names: anon, userpass, apikey, jwt, got 7/);
    expect(configWith({ auth: ["anon", "magic"] })).toThrow(/unknown auth provider "magic"/);
    expect(configWith({ maxInFlightPerUsr: 2 })).toThrow(/serve\.maxInFlightPerUsr: unknown setting \(known: schema, appId/);
    expect(configWith({ secret: "x".repeat(40) })).toThrow(/serve\.secret: a secret does not belong in a config file; use ASYMGEN_SECRET or secretFile/);
    // Two bad keys: both named in the one line.
    expect(configWith({ port: -1, host: "" })).toThrow(/serve\.host: .*; .*serve\.port: |serve\.port: .*; .*serve\.host: /);
  });

  it("checks flags and the environment with the same schema", () => {
    expect(() => resolveServeSettings({ schema, appId: "a", port: Number.NaN })).toThrow(/--port: expected an integer from 0 to 65535, got something that is not a number/);
    expect(() => resolveServeSettings({ schema, appId: "a", maxInFlightPerUser: -2 })).toThrow(/--max-in-flight-per-user: expected a positive integer, got -2/);
    expect(() => resolveServeSettings({ schema, appId: "a" }, { ASYMGEN_LOG_LEVEL: "loud" })).toThrow(/ASYMGEN_LOG_LEVEL: expected "debug", "info", "warn" or "error", got "loud"/);
    expect(() => resolveServeSettings({ schema, appId: "a" }, { ASYMGEN_ACCESS_TOKEN_TTL: "1 week" })).toThrow(/ASYMGEN_ACCESS_TOKEN_TTL: expected a duration with its unit/);
  });

  /** The error `resolve` throws (null when none). */
  function errorOf(resolve: () => unknown): Error | null {
    try {
      resolve();
    } catch (caught) {
      return caught as Error;
    }
    return null;
  }

  it("takes an HMAC custom-token secret from a file or ASYMGEN_JWT_SECRET, never inline on the command line or in a config file", () => {
    // Base64 with a slash, as `openssl rand -base64 32` mostly gives: refused, and not echoed.
    const secret = "q8Zr/9xTAbc+defGhijKlmnOpqrStuvWxyz0123456T0w=";
    const config = path.join(dir, "inline-secret.config.json");
    fs.writeFileSync(config, JSON.stringify({ serve: { schema, appId: "a", auth: "jwt", jwtKey: secret } }));
    for (const [attempt, shown] of [
      [() => resolveServeSettings({ schema, appId: "a", auth: "jwt", jwtKey: secret }, {}), `(a value of ${secret.length} characters, not shown): no such file`],
      [() => resolveServeSettings({ config }, {}), `(a value of ${secret.length} characters, not shown): no such file`],
      [() => resolveServeSettings({ schema, appId: "a", auth: "jwt", jwtKey: JSON.stringify({ kty: "oct", k: "c2VjcmV0" }) }, {}), '(inline JWK): an "oct" JWK is an HMAC secret'],
    ] as const) {
      const error = errorOf(attempt);
      expect(error?.message).toContain(`--jwt-key ${shown}`);
      expect(error?.message).toMatch(/a key file \(mode 0600\) or (give it as the secret \()?ASYMGEN_JWT_SECRET/);
      expect(error?.message).not.toContain(secret);
    }
    const fromEnv = resolveServeSettings({ schema, appId: "a", auth: "jwt" }, { ASYMGEN_JWT_SECRET: secret }).auth.customToken;
    expect(Buffer.from(fromEnv?.key as Uint8Array).toString()).toBe(secret);
    expect(fromEnv?.keySource).toBe("the HS256 secret from ASYMGEN_JWT_SECRET");
    expect(() => resolveServeSettings({ schema, appId: "a", auth: "jwt", jwtKey: "k.pem" }, { ASYMGEN_JWT_SECRET: secret })).toThrow(
      /--jwt-key or ASYMGEN_JWT_SECRET, not both/,
    );
  });

  it("refuses a --jwt-key path that does not exist, even an absolute one without a key's extension (it used to become the secret)", () => {
    const missing = path.join(dir, "etc", "custom-token-hmac-secret");
    expect(missing.length).toBeGreaterThanOrEqual(32);
    expect(() => resolveServeSettings({ schema, appId: "a", auth: "jwt", jwtKey: missing }, {})).toThrow(`--jwt-key ${missing}: no such file`);
  });

  it("takes ASYMGEN_JWT_SECRET verbatim as the secret, never as a path to read, even when that file exists", () => {
    // Looks like a mounted secret's path; as a value it is 40 bytes of secret.
    const notAFile = "/run/secrets/custom-token-hmac-secret-x1";
    expect(Buffer.byteLength(notAFile)).toBeGreaterThanOrEqual(32);
    const fromPathText = resolveServeSettings({ schema, appId: "a", auth: "jwt" }, { ASYMGEN_JWT_SECRET: notAFile }).auth.customToken;
    expect(Buffer.from(fromPathText?.key as Uint8Array).toString()).toBe(notAFile);
    // A file at that very path holding another secret: still the value, never the file's content.
    const existing = path.join(dir, "mounted-custom-token-secret");
    fs.writeFileSync(existing, "the-file-content-is-another-secret-of-40b");
    const fromExisting = resolveServeSettings({ schema, appId: "a", auth: "jwt" }, { ASYMGEN_JWT_SECRET: existing }).auth.customToken;
    expect(Buffer.from(fromExisting?.key as Uint8Array).toString()).toBe(existing);
    // Verbatim: the spaces around it are part of the secret.
    expect(resolveServeSettings({ schema, appId: "a", auth: "jwt" }, { ASYMGEN_JWT_SECRET: ` ${notAFile} ` }).auth.customToken?.key).toEqual(
      Buffer.from(` ${notAFile} `),
    );
    // A public key there is refused: as an HMAC secret, anyone holding it could sign tokens.
    const pem = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();
    expect(() => resolveServeSettings({ schema, appId: "a", auth: "jwt" }, { ASYMGEN_JWT_SECRET: pem })).toThrow(
      /^ASYMGEN_JWT_SECRET \(a secret of \d+ bytes\): holds a PEM or JWK key, not an HMAC secret; give a key as --jwt-key FILE$/,
    );
  });

  it("names ASYMGEN_JWT_SECRET, never its value, when the secret is too short", () => {
    const short = "/run/secrets/jwt";
    const error = errorOf(() => resolveServeSettings({ schema, appId: "a", auth: "jwt" }, { ASYMGEN_JWT_SECRET: short }));
    expect(error?.message).toMatch(/^ASYMGEN_JWT_SECRET \(a secret of 16 bytes\): an HS256 secret must be at least 32 bytes, got 16/);
    expect(error?.message).not.toContain(short);
  });

  it("takes the access-token secret from ASYMGEN_SECRET, else a secret file (by default under ./asymgen-data)", () => {
    expect(resolveServeSettings({ schema, appId: "a" }, {}).auth.secretFile).toBe("./asymgen-data/access-token.key");
    expect(resolveServeSettings({ schema, appId: "a", secretFile: "/etc/asymgen/key" }, {}).auth.secretFile).toBe("/etc/asymgen/key");
    const fromEnv = resolveServeSettings({ schema, appId: "a" }, { ASYMGEN_SECRET: "s".repeat(32) }).auth;
    expect(fromEnv.secret).toBe("s".repeat(32));
    expect(fromEnv.secretFile).toBeUndefined();
    expect(() => resolveServeSettings({ schema, appId: "a", secretFile: "/k" }, { ASYMGEN_SECRET: "s".repeat(32) })).toThrow(/ASYMGEN_SECRET or a secret file, not both/);
  });

  it("reads the TLS certificate and key, and wants both", () => {
    const cert = path.join(dir, "cert.pem");
    fs.writeFileSync(cert, "CERT");
    expect(() => resolveServeSettings({ schema, appId: "a", tlsCert: cert })).toThrow(/HTTPS needs both --tls-cert and --tls-key/);
    expect(() => resolveServeSettings({ schema, appId: "a", tlsCert: cert, tlsKey: path.join(dir, "missing.pem") })).toThrow(/--tls-key .*missing\.pem: no such file/);
    fs.writeFileSync(path.join(dir, "key.pem"), "KEY");
    expect(resolveServeSettings({ schema, appId: "a", tlsCert: cert, tlsKey: path.join(dir, "key.pem") }).tls).toEqual({ cert: "CERT", key: "KEY" });
  });

  it("explains bad settings in one line", () => {
    expect(() => resolveServeSettings({ schema, appId: "a", auth: "anon,magic" })).toThrow(/unknown auth provider "magic"/);
    expect(() => resolveServeSettings({ schema, appId: "a", auth: "jwt" })).toThrow(/needs a key/);
    expect(() => resolveServeSettings({ schema, appId: "a", accessTokenTtl: "soon" })).toThrow(/--access-token-ttl: expected a duration with its unit, such as 500ms, 30s, 30m, 12h or 60d, got "soon"/);
    expect(() => resolveServeSettings({ schema })).toThrow(/app id is required/);
    expect(() => resolveServeSettings({ schema: path.join(dir, "nope.json"), appId: "a" })).toThrow(/cannot read schema/);
  });
});
