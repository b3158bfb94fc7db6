/**
 * `asymgen serve` settings: flags over the config file over the environment over defaults.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { resolveServeSettings } from "../../server/cli-commands.js";
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
    fs.writeFileSync(keyFile, "file-secret");
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
    expect(settings.auth.customToken).toEqual({ algorithm: "HS256", key: "file-secret" });
    expect(settings.auth.accessTokenTtlMs).toBe(2000);
    expect(settings.limits).toEqual({ maxBatchDocuments: 5 });
    expect(resolveServeSettings({ config, auth: "anon,userpass" }).auth.providers).toEqual(new Set(["anon-user", "local-userpass"]));
  });

  it("reads the custom-token issuer and the memory bounds", () => {
    const settings = resolveServeSettings({
      schema,
      appId: "a",
      auth: "jwt",
      jwtKey: "secret",
      jwtIssuer: "https://issuer.example",
      maxInFlightBytes: 128 * 1024 * 1024,
      maxInFlightPerUser: 2,
      bodyReadTimeout: "5s",
    });
    expect(settings.auth.customToken).toEqual({ algorithm: "HS256", key: "secret", issuer: "https://issuer.example" });
    expect(settings.limits).toEqual({ maxInFlightBytes: 128 * 1024 * 1024, maxInFlightPerUser: 2, bodyReadTimeoutMs: 5000 });
    expect(() => resolveServeSettings({ schema, appId: "a", maxBatchBytes: 2048, maxInFlightBytes: 1024 })).toThrow(/at least maxBatchBytes/);
  });

  it("explains bad settings in one line", () => {
    expect(() => resolveServeSettings({ schema, appId: "a", auth: "anon,magic" })).toThrow(/unknown auth provider "magic"/);
    expect(() => resolveServeSettings({ schema, appId: "a", auth: "jwt" })).toThrow(/needs a key/);
    expect(() => resolveServeSettings({ schema, appId: "a", accessTokenTtl: "soon" })).toThrow(/bad duration/);
    expect(() => resolveServeSettings({ schema })).toThrow(/app id is required/);
    expect(() => resolveServeSettings({ schema: path.join(dir, "nope.json"), appId: "a" })).toThrow(/cannot read schema/);
  });
});
