/**
 * Brute force against the auth routes, over real HTTP: a burst of wrong passwords for one account,
 * many accounts from one address, and anonymous users and registrations from one address are
 * answered 429 `TooManyRequests` with `Retry-After` once past their limits, and a locked account
 * refuses even the right password until its window passes. What the limits must not do: lock an
 * API key's device out for anyone who knows the key's id, or lock every user behind one address
 * (a NAT) out for one attacker there. (The limits are per process and do not depend on the store:
 * SQLite only.)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { AuthLimits } from "../../server/auth/auth-throttle.js";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import { createApiKey } from "../../server/auth/auth-service.js";
import { testSchema } from "../support/ingest-server-fixtures.js";

const appId = "rate-limit-app";
const provider = (name: string, action = "login") => `/api/client/v2.0/app/${appId}/auth/providers/${name}/${action}`;
const password = "correct horse battery";

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-rate-limit-"));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A server on a fresh SQLite store with these auth limits. */
async function startServer(name: string, authLimits: Partial<AuthLimits> = {}): Promise<IngestServer> {
  return createIngestServer({ schema: testSchema, appId, store: `sqlite:${path.join(dir, `${name}.sqlite`)}`, quiet: true, authLimits });
}

/** POSTs JSON; answers the status, the Retry-After header and the error code. */
async function post(
  server: IngestServer,
  route: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; retryAfter: string | null; code: unknown }> {
  const response = await fetch(`${server.url}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, retryAfter: response.headers.get("retry-after"), code: text ? (JSON.parse(text) as { error_code?: unknown }).error_code : undefined };
}

const countOf = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

describe("auth rate limits (defaults)", () => {
  let server: IngestServer;
  beforeAll(async () => {
    server = await startServer("defaults");
  });
  afterAll(async () => server?.close());

  it("answers 60 wrong passwords in a burst with 10 × 401, then 429 + Retry-After", async () => {
    expect((await post(server, provider("local-userpass", "register"), { email: "ada@example.com", password })).status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => post(server, provider("local-userpass"), { username: "ada@example.com", password: `guess-${i}` })),
    );
    const statuses = answers.map((a) => a.status);
    expect(countOf(statuses, 401)).toBe(10);
    expect(countOf(statuses, 429)).toBe(50);
    for (const answer of answers.filter((a) => a.status === 429)) {
      expect(answer.code).toBe("TooManyRequests");
      // 10 per 15 minutes: the next guess in 90 s at most (whole seconds).
      expect(answer.retryAfter).toMatch(/^\d+$/);
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(answer.retryAfter)).toBeLessThanOrEqual(90);
    }
    // The right password is refused too while the account is locked, whatever the case of the name.
    expect((await post(server, provider("local-userpass"), { username: " ADA@example.com", password })).status).toBe(429);
  });

  it("does not lock an API key for wrong secrets sent with its id: its device still logs in", async () => {
    // The secret is 256 random bits: a per-key lock would protect nothing and would let anyone who
    // learned the id (a log line, apikey list's output) keep the device out.
    const { key, id } = await createApiKey(server.store, "fleet");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await post(server, provider("api-key"), { key: `${id}.wrong-${i}` })).status);
    expect(statuses).toEqual(Array<number>(12).fill(401));
    expect((await post(server, provider("api-key"), { key })).status).toBe(200);
  });

  it("limits anonymous users per address: a burst of 30, then 429 and nothing stored", async () => {
    const before = (await server.store.listAuthRecords("user", "", 1000)).length;
    const answers = await Promise.all(Array.from({ length: 35 }, () => post(server, provider("anon-user"), {})));
    expect(countOf(answers.map((a) => a.status), 200)).toBe(30);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(5);
    // 30 per 3 minutes: one more every 6 s.
    expect(refused.map((a) => a.retryAfter)).toEqual(Array<string>(5).fill("6"));
    expect((await server.store.listAuthRecords("user", "", 1000)).length - before).toBe(30);
  });
});

describe("auth rate limits (settings)", () => {
  it("accepts the right password again once the account's window has passed, and a success clears the count", async () => {
    const server = await startServer("short-window", {
      // One more guess every 2 s: longer than the burst below takes to be hashed and answered.
      failedLoginsPerAccount: { limit: 3, windowMs: 6000 },
      failedLoginsPerAddress: false,
      loginsPerAddress: false,
    });
    try {
      await post(server, provider("local-userpass", "register"), { email: "bob@example.com", password });
      const wrong = () => post(server, provider("local-userpass"), { username: "bob@example.com", password: "nope-nope" });
      const statuses = (await Promise.all(Array.from({ length: 8 }, wrong))).map((a) => a.status);
      expect(countOf(statuses, 401)).toBe(3);
      const locked = await post(server, provider("local-userpass"), { username: "bob@example.com", password });
      expect(locked.status).toBe(429);
      expect(["1", "2"]).toContain(locked.retryAfter);
      await new Promise((resolve) => setTimeout(resolve, Number(locked.retryAfter) * 1000));
      expect((await post(server, provider("local-userpass"), { username: "bob@example.com", password })).status).toBe(200);
      // The success cleared the failures: three more wrong guesses are 401s again.
      for (let i = 0; i < 3; i++) expect((await wrong()).status).toBe(401);
      expect((await wrong()).status).toBe(429);
    } finally {
      await server.close();
    }
  });

  it("limits login attempts per address across accounts (password spraying)", async () => {
    const server = await startServer("spray", { loginsPerAddress: { limit: 5, windowMs: 60_000 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++)
        statuses.push((await post(server, provider("local-userpass"), { username: `user${i}@example.com`, password })).status);
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
    } finally {
      await server.close();
    }
  });

  it("limits failed logins per address across accounts", async () => {
    const server = await startServer("failures", { failedLoginsPerAddress: { limit: 3, windowMs: 60_000 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await post(server, provider("local-userpass"), { username: `user${i}@example.com`, password })).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await server.close();
    }
  });

  it("applies the per-address failure limit to API-key logins", async () => {
    const server = await startServer("apikey-address", { failedLoginsPerAddress: { limit: 3, windowMs: 60_000 } });
    try {
      const { id } = await createApiKey(server.store, "fleet");
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(server, provider("api-key"), { key: `${id}.wrong-${i}` })).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await server.close();
    }
  });

  it("keeps a spraying address throttled while a user who logged in from it before still can (one NAT)", async () => {
    // The attacker and the users share 127.0.0.1, as clients behind one NAT share its address.
    const server = await startServer("nat", {
      failedLoginsPerAddress: { limit: 5, windowMs: 60 * 60_000 },
      failedLoginsPerAccount: { limit: 3, windowMs: 15 * 60_000 },
      loginsPerAddress: false,
    });
    const login = (username: string, pass: string) => post(server, provider("local-userpass"), { username, password: pass });
    try {
      for (const email of ["ada@example.com", "new@example.com"])
        expect((await post(server, provider("local-userpass", "register"), { email, password })).status).toBe(201);
      // Ada's device logged in from this address yesterday, say; new@ never has.
      expect((await login("ada@example.com", password)).status).toBe(200);

      // Spraying: one password on many accounts, existing or not. Five failures, then 429.
      const sprayed: number[] = [];
      for (let i = 0; i < 40; i++) sprayed.push((await login(`user${i}@example.com`, "Winter2024!")).status);
      expect(sprayed).toEqual([...Array<number>(5).fill(401), ...Array<number>(35).fill(429)]);
      const refused = await login("user99@example.com", "Winter2024!");
      expect(refused.code).toBe("TooManyRequests");
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);

      // Ada, behind the same address, logs in with her password.
      expect((await login("ada@example.com", password)).status).toBe(200);
      // An account that never logged in from here waits out the lock: with the right password it
      // cannot be told from a sprayed guess without checking it, and the check is what the lock stops.
      expect((await login("new@example.com", password)).status).toBe(429);
      // Guessing Ada's password gets through the address lock but meets her own account's limit.
      const guesses: number[] = [];
      for (let i = 0; i < 5; i++) guesses.push((await login("ada@example.com", `guess-${i}`)).status);
      expect(guesses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await server.close();
    }
  });

  it("limits registrations per address", async () => {
    const server = await startServer("registrations", { registrationsPerAddress: { limit: 2, windowMs: 60_000 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await post(server, provider("local-userpass", "register"), { email: `new${i}@example.com`, password })).status);
      expect(statuses).toEqual([201, 201, 429]);
      expect(await server.store.getAuthRecord("userpass", "new2@example.com")).toBeNull();
    } finally {
      await server.close();
    }
  });

  it("takes the address from X-Forwarded-For only with trustProxy", async () => {
    const limits = { anonymousUsersPerAddress: { limit: 1, windowMs: 60_000 } };
    const anon = (server: IngestServer, address: string) => post(server, provider("anon-user"), {}, { "x-forwarded-for": address });
    const direct = await startServer("direct", limits);
    const proxied = await startServer("proxied", { ...limits, trustProxy: true });
    try {
      // Not trusted: the header is the client's to write, so it changes nothing.
      expect((await anon(direct, "198.51.100.1")).status).toBe(200);
      expect((await anon(direct, "198.51.100.2")).status).toBe(429);
      // Trusted: the last hop (the one the proxy appended) is the client.
      expect((await anon(proxied, "203.0.113.9, 198.51.100.1")).status).toBe(200);
      expect((await anon(proxied, "203.0.113.9, 198.51.100.1")).status).toBe(429);
      expect((await anon(proxied, "198.51.100.1, 198.51.100.2")).status).toBe(200);
      // A hop with a port (Azure Application Gateway writes ip:port) is its address, not the proxy's.
      expect((await anon(proxied, "203.0.113.9, 198.51.100.3:51234")).status).toBe(200);
      expect((await anon(proxied, "198.51.100.4:51234")).status).toBe(200);
      expect((await anon(proxied, "198.51.100.3:40000")).status).toBe(429);
      expect((await anon(proxied, "[2001:db8:1:2::7]:51234")).status).toBe(200);
      expect((await anon(proxied, "2001:db8:1:2::8")).status).toBe(429); // the same /64
      expect((await anon(proxied, "[2001:db8:1:3::7]")).status).toBe(200);
    } finally {
      await direct.close();
      await proxied.close();
    }
  });
});
