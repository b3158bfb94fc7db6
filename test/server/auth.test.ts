/**
 * The App Services-compatible auth routes over real HTTP, on a real SQLite store: every provider,
 * refresh, logout, profile, and token lifetimes.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { createApiKey } from "../../server/auth/auth-service.js";
import { signHs256 } from "../../server/auth/jwt.js";
import { runApiKeyCreateCommand } from "../../server/apikey-commands.js";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import {
  callJson,
  encodeBatch,
  loginAnonymous,
  makeWeatherDoc,
  newQueueId,
  postIngest,
  testSchema,
} from "../support/ingest-server-fixtures.js";
import { epochSeconds, freshTimes, signTestJwt } from "../support/sign-test-jwt.js";

const appId = "auth-app";
const provider = (name: string, action = "login") => `/api/client/v2.0/app/${appId}/auth/providers/${name}/${action}`;
const hsSecret = "custom-token-secret-for-tests-of-40-bytes";
const rsKeys = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });

function decodeClaims(jwt: string): Record<string, number | string> {
  return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, number | string>;
}

const signRs256 = (claims: Record<string, unknown>) => signTestJwt({ alg: "RS256" }, claims, rsKeys.privateKey);

describe("auth routes", () => {
  let dir: string;
  let store: string;
  let server: IngestServer;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-auth-"));
    store = `sqlite:${path.join(dir, "ingest.sqlite")}`;
    server = await createIngestServer({
      schema: testSchema,
      appId,
      store,
      quiet: true,
      auth: { providers: ["anon", "userpass", "apikey", "jwt"], customToken: { algorithm: "HS256", secret: hsSecret } },
    });
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("answers the location route with this server's URL", async () => {
    const { status, json } = await callJson(server.url, "GET", `/api/client/v2.0/app/${appId}/location`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ hostname: server.url, ws_hostname: server.url.replace("http", "ws") });
  });

  it("logs in anonymously with the four fields and a 30-minute JWT access token", async () => {
    const { status, json } = await callJson(server.url, "POST", provider("anon-user"), { body: { options: { device: {} } } });
    expect(status).toBe(200);
    expect(Object.keys(json).sort()).toEqual(["access_token", "device_id", "refresh_token", "user_id"]);
    const claims = decodeClaims(json["access_token"] as string);
    expect(Number(claims["exp"]) - Number(claims["iat"])).toBe(1800);
    const profile = await callJson(server.url, "GET", "/api/client/v2.0/auth/profile", { token: json["access_token"] as string });
    expect(profile.json).toMatchObject({ user_id: json["user_id"], identities: [{ provider_type: "anon-user" }] });
  });

  it("registers and logs in with email/password (scrypt), refusing a taken email, a short password and a wrong one", async () => {
    const body = { email: "Ada@Example.com", password: "correct horse" };
    expect((await callJson(server.url, "POST", provider("local-userpass", "register"), { body })).status).toBe(201);
    const again = await callJson(server.url, "POST", provider("local-userpass", "register"), {
      body: { ...body, email: "ada@example.com" },
    });
    expect(again).toEqual({ status: 409, json: { error: "name already in use", error_code: "AccountNameInUse" } });
    expect(
      (await callJson(server.url, "POST", provider("local-userpass", "register"), { body: { email: "b@example.com", password: "123" } }))
        .status,
    ).toBe(400);
    const wrong = await callJson(server.url, "POST", provider("local-userpass"), {
      body: { username: "ada@example.com", password: "wrong horse" },
    });
    expect(wrong.status).toBe(401);
    expect(
      (await callJson(server.url, "POST", provider("local-userpass"), { body: { username: "nobody@example.com", password: "whatever" } }))
        .status,
    ).toBe(401);
    const ok = await callJson(server.url, "POST", provider("local-userpass"), {
      body: { username: "ada@example.com", password: "correct horse" },
    });
    expect(ok.status).toBe(200);
    const profile = await callJson(server.url, "GET", "/api/client/v2.0/auth/profile", { token: ok.json["access_token"] as string });
    expect(profile.json).toMatchObject({
      identities: [{ id: "ada@example.com", provider_type: "local-userpass" }],
      data: { email: "ada@example.com" },
    });
    // The store keeps a salted scrypt hash, never the password.
    const record = await server.store.getAuthRecord("userpass", "ada@example.com");
    expect(record).toMatch(/scrypt\$/);
    expect(record).not.toContain("correct horse");
  });

  it("logs in with an API key printed by `apikey create`, and refuses a wrong one", async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    const errSpy = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      await runApiKeyCreateCommand({ appId, store, name: "sensor fleet" });
    } finally {
      spy.mockRestore();
      errSpy.mockRestore();
    }
    const key = written.join("").trim();
    expect(key).toMatch(/^[0-9a-f]{24}\.[A-Za-z0-9_-]{43}$/);
    const ok = await callJson(server.url, "POST", provider("api-key"), { body: { key } });
    expect(ok.status).toBe(200);
    expect((await callJson(server.url, "POST", provider("api-key"), { body: { key: `${key.slice(0, -1)}x` } })).status).toBe(401);
    expect((await callJson(server.url, "POST", provider("api-key"), { body: { key: "nonsense" } })).status).toBe(401);
    // Only a hash is stored.
    const stored = await server.store.getAuthRecord("apikey", key.split(".")[0] ?? "");
    expect(stored).not.toContain(key.split(".")[1]);
  });

  it("logs in with an HS256 custom token, one user per subject, and refuses forged, expired and unsigned ones", async () => {
    const token = signHs256({ sub: "device-17", ...freshTimes() }, hsSecret);
    const first = await callJson(server.url, "POST", provider("custom-token"), { body: { token } });
    const second = await callJson(server.url, "POST", provider("custom-token"), { body: { token } });
    expect(first.status).toBe(200);
    expect(second.json["user_id"]).toBe(first.json["user_id"]);
    const forged = signHs256({ sub: "device-17", ...freshTimes() }, "another secret");
    const expired = signHs256({ sub: "device-17", iat: epochSeconds(-600), exp: epochSeconds(-300) }, hsSecret);
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"sub":"x","exp":9999999999}').toString("base64url")}.`;
    for (const bad of [forged, expired, none, "not-a-jwt"]) {
      expect((await callJson(server.url, "POST", provider("custom-token"), { body: { token: bad } })).status).toBe(401);
    }
  });

  it("refuses a custom token before its nbf, and accepts it once nbf has passed", async () => {
    const now = Math.floor(Date.now() / 1000);
    const early = signHs256({ sub: "device-nbf", ...freshTimes(), nbf: now + 600 }, hsSecret);
    const refused = await callJson(server.url, "POST", provider("custom-token"), { body: { token: early } });
    expect(refused).toMatchObject({ status: 401, json: { error: expect.stringContaining("nbf") } });
    const badNbf = signHs256({ sub: "device-nbf", ...freshTimes(), nbf: "yesterday" }, hsSecret);
    expect((await callJson(server.url, "POST", provider("custom-token"), { body: { token: badNbf } })).status).toBe(401);
    const ready = signHs256({ sub: "device-nbf", ...freshTimes(), nbf: now - 5 }, hsSecret);
    expect((await callJson(server.url, "POST", provider("custom-token"), { body: { token: ready } })).status).toBe(200);
  });

  it("requires the configured iss on custom tokens (--jwt-issuer)", async () => {
    const issuerServer = await createIngestServer({
      schema: testSchema,
      appId,
      store,
      quiet: true,
      auth: { providers: ["jwt"], customToken: { algorithm: "HS256", secret: hsSecret, issuer: "https://issuer.example" } },
    });
    try {
      const login = (claims: Record<string, unknown>) =>
        callJson(issuerServer.url, "POST", provider("custom-token"), {
          body: { token: signHs256({ sub: "iss-user", ...freshTimes(), ...claims }, hsSecret) },
        });
      expect((await login({ iss: "https://issuer.example" })).status).toBe(200);
      expect(await login({ iss: "https://evil.example" })).toMatchObject({ status: 401, json: { error: expect.stringContaining("iss") } });
      expect((await login({})).status).toBe(401);
    } finally {
      await issuerServer.close();
    }
  });

  it("logs in with an RS256 custom token verified by a configured public key", async () => {
    const rsServer = await createIngestServer({
      schema: testSchema,
      appId,
      store,
      quiet: true,
      auth: {
        providers: ["jwt"],
        customToken: { algorithm: "RS256", key: rsKeys.publicKey.export({ type: "spki", format: "pem" }).toString(), audience: "asymgen" },
      },
    });
    try {
      const ok = await callJson(rsServer.url, "POST", provider("custom-token"), {
        body: { token: signRs256({ sub: "rs-user", aud: "asymgen", ...freshTimes() }) },
      });
      expect(ok.status).toBe(200);
      const wrongAud = await callJson(rsServer.url, "POST", provider("custom-token"), {
        body: { token: signRs256({ sub: "rs-user", aud: "other", ...freshTimes() }) },
      });
      expect(wrongAud.status).toBe(401);
      // An HS256 token "signed" with the public key text must not pass (algorithm confusion).
      const confused = signHs256(
        { sub: "rs-user", aud: "asymgen", ...freshTimes() },
        rsKeys.publicKey.export({ type: "spki", format: "pem" }).toString(),
      );
      expect((await callJson(rsServer.url, "POST", provider("custom-token"), { body: { token: confused } })).status).toBe(401);
      // Providers not switched on answer 401 AuthProviderNotFound.
      const anon = await callJson(rsServer.url, "POST", provider("anon-user"), { body: {} });
      expect(anon).toMatchObject({ status: 401, json: { error_code: "AuthProviderNotFound" } });
    } finally {
      await rsServer.close();
    }
  });

  it("refreshes an access token, and logout revokes the refresh token and the session's access tokens", async () => {
    const login = await loginAnonymous(server.url, appId);
    const refreshed = await callJson(server.url, "POST", "/api/client/v2.0/auth/session", { token: login.refresh_token });
    expect(refreshed.status).toBe(201);
    const access = refreshed.json["access_token"] as string;
    expect((await callJson(server.url, "GET", "/api/client/v2.0/auth/profile", { token: access })).status).toBe(200);
    // An access token is not a refresh token.
    expect((await callJson(server.url, "POST", "/api/client/v2.0/auth/session", { token: access })).status).toBe(401);
    expect((await callJson(server.url, "DELETE", "/api/client/v2.0/auth/session", { token: login.refresh_token })).status).toBe(204);
    expect((await callJson(server.url, "POST", "/api/client/v2.0/auth/session", { token: login.refresh_token })).status).toBe(401);
    expect((await callJson(server.url, "GET", "/api/client/v2.0/auth/profile", { token: access })).status).toBe(401);
    const ingest = await postIngest(
      server.url,
      appId,
      login.access_token,
      encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) }]),
    );
    expect(ingest.status).toBe(401);
  });

  it("expires access tokens after the configured lifetime, and a refresh brings back access", async () => {
    const shortLived = await createIngestServer({ schema: testSchema, appId, store, quiet: true, auth: { accessTokenTtlMs: 1000 } });
    try {
      const login = await loginAnonymous(shortLived.url, appId);
      const body = () => encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) }]);
      expect((await postIngest(shortLived.url, appId, login.access_token, body())).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const expired = await postIngest(shortLived.url, appId, login.access_token, body());
      expect(expired.status).toBe(401);
      expect(expired.error?.error_code).toBe("InvalidSession");
      const refreshed = await callJson(shortLived.url, "POST", "/api/client/v2.0/auth/session", { token: login.refresh_token });
      expect((await postIngest(shortLived.url, appId, refreshed.json["access_token"] as string, body())).status).toBe(200);
    } finally {
      await shortLived.close();
    }
  });

  it("refuses refresh token lifetimes outside 30 minutes to 180 days", async () => {
    await expect(
      createIngestServer({ schema: testSchema, appId, store, quiet: true, auth: { refreshTokenTtlMs: 60_000 } }),
    ).rejects.toThrow(/between 30 minutes and 180 days/);
  });

  it("creates API keys whose user shows in the profile", async () => {
    const sqlite = server.store;
    const { key, userId } = await createApiKey(sqlite, "direct");
    const login = await callJson(server.url, "POST", provider("api-key"), { body: { key } });
    expect(login.json["user_id"]).toBe(userId);
  });
});
