/**
 * Fuzzing the ingest and auth routes with thousands of random and mutated bodies (seeded; the
 * seed is printed, replay with ASYMGEN_FUZZ_SEED=<seed>): never a 5xx, never a crash, and a
 * refused request never writes (row counts compared around each one). Custom tokens are signed
 * with the configured key and then broken one claim or header at a time: never a 200 for a
 * broken one, always a 200 for an intact one, and a refused one stores no identity.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, serialize, Timestamp, UUID } from "bson";
import { createIngestServer } from "../../server/create-server.js";
import type { IngestServer } from "../../server/create-server.js";
import { createTestDatabase } from "../support/postgres.js";
import {
  callJson,
  encodeBatch,
  encodeDeepTree,
  encodeRawBatch,
  loginAnonymous,
  makeAllTypesDoc,
  makeWeatherDoc,
  newQueueId,
  postIngest,
  recursiveSchema,
  testSchema,
} from "../support/ingest-server-fixtures.js";
import { createSeededRandom as createRandom } from "../support/seeded-random.mjs";
import { signTestJwt } from "../support/sign-test-jwt.js";

const appId = "fuzz-app";
const seed = Number(process.env["ASYMGEN_FUZZ_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
const iterations = Number(process.env["ASYMGEN_FUZZ_ITERATIONS"] ?? 2000);
const jwtSecret = "fuzz-custom-token-secret-of-at-least-32-bytes";
const jwtAudience = "fuzz-aud";
const jwtIssuer = "fuzz-iss";

const database = await createTestDatabase("fuzz");
if (database) afterAll(() => database.drop());

describeFuzz("SQLite", (dir) => `sqlite:${path.join(dir, "ingest.sqlite")}`, iterations);
// PostgreSQL refuses what SQLite takes (NUL in text, invalid UTF-8): a shorter run there catches 5xx from it.
if (database) describeFuzz("PostgreSQL", () => database.url, Math.ceil(iterations / 4));
else console.warn("SKIPPED the PostgreSQL fuzz run (PostgreSQL unreachable).");

function describeFuzz(storeName: string, storeUrl: (dir: string) => string, iterations: number): void {
  describe(`fuzzing the server on ${storeName} (seed ${seed})`, () => {
    const random = createRandom(seed);
    const int = (n: number) => Math.floor(random() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
    let dir: string;
    let server: IngestServer;
    let token: string;

    beforeAll(async () => {
      console.log(`fuzz seed ${seed} (replay: ASYMGEN_FUZZ_SEED=${seed})`);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-fuzz-"));
      server = await createIngestServer({
        schema: [...testSchema, ...recursiveSchema],
        appId,
        store: storeUrl(dir),
        quiet: true,
        limits: { maxBatchBytes: 256 * 1024 },
        auth: { customToken: { secret: jwtSecret, algorithm: "HS256", audience: jwtAudience, issuer: jwtIssuer } },
        // Every auth limit off: with any on, a few dozen requests in the routes answer 429 before
        // reading the body (10 registrations, 30 anonymous logins), and the rest go unfuzzed.
        authLimits: {
          failedLoginsPerAccount: false,
          failedLoginsPerAddress: false,
          loginsPerAddress: false,
          anonymousUsersPerAddress: false,
          registrationsPerAddress: false,
        },
      });
      token = (await loginAnonymous(server.url, appId)).access_token;
    });
    afterAll(async () => {
      await server?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const keys = [
      "_id",
      "deviceId",
      "readings",
      "tags",
      "attributes",
      "location",
      "at",
      "value",
      "flag",
      "any",
      "ints",
      "scores",
      "$bad",
      "",
      "x.y",
      "__proto__",
      "constructor",
    ];
    function randomValue(depth: number): unknown {
      switch (int(depth > 2 ? 14 : 17)) {
        case 0:
          return null;
        case 1:
          return random() < 0.5;
        case 2:
          return new Int32(int(2 ** 31) - 2 ** 30);
        case 3:
          return Long.fromNumber(int(2 ** 40));
        case 4:
          return new Double(pick([0.5, -0, Number.NaN, Number.POSITIVE_INFINITY, 1e308, int(100)]));
        case 5:
          return pick(["", "x", "\u0000", "ünï", "🚀".repeat(int(5)), "a".repeat(int(300))]);
        case 6:
          return new ObjectId();
        case 7:
          return new UUID();
        case 8:
          return new Binary(new Uint8Array(int(20)), pick([0, 2, 4, 5, 0x80]));
        case 9:
          return new Date(pick([0, -1, 8.64e15, Date.now()]));
        case 10:
          return Decimal128.fromString(pick(["0", "-1.5", "NaN", "1E+6000"]));
        case 11:
          return new Timestamp({ t: 1, i: 2 });
        case 12:
          return pick([new MinKey(), new MaxKey()]);
        case 13:
          return /re/g;
        case 14:
        case 15:
          return Array.from({ length: int(4) }, () => randomValue(depth + 1));
        default:
          return randomDoc(depth + 1);
      }
    }
    function randomDoc(depth: number): Record<string, unknown> {
      const doc: Record<string, unknown> = {};
      // defineProperty: a "__proto__" key must be an own field, not a prototype swap.
      for (let i = int(6); i > 0; i--)
        Object.defineProperty(doc, random() < 0.8 ? pick(keys) : `k${int(1000)}`, {
          value: randomValue(depth),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return doc;
    }
    function validEntries() {
      return Array.from({ length: 1 + int(3) }, (_, i) => {
        const kind = int(3);
        if (kind === 0)
          return {
            seq: i + 1,
            table: "WeatherSensor",
            doc: makeWeatherDoc(int(1000)),
          };
        if (kind === 1)
          return {
            seq: i + 1,
            table: "AllTypes",
            doc: makeAllTypesDoc(int(1_000_000)),
          };
        return {
          seq: i + 1,
          table: "device_event",
          doc: {
            _id: new UUID(),
            deviceId: "d",
            kind: "k",
            at: new Date(),
            payload: randomValue(3),
          },
        };
      });
    }
    function mutate(bytes: Uint8Array): Uint8Array {
      const out = Buffer.from(bytes);
      switch (int(6)) {
        case 0: {
          for (let k = 1 + int(4); k > 0; k--) out[int(out.length)] = int(256);
          return out;
        }
        case 1:
          return out.subarray(0, int(out.length));
        case 2:
          return Buffer.concat([out, Buffer.from(Array.from({ length: 1 + int(20) }, () => int(256)))]);
        case 3: {
          out.writeInt32LE(int(2 ** 31), 0);
          return out;
        }
        case 4: {
          const at = int(out.length);
          return Buffer.concat([out.subarray(0, at), out.subarray(at - int(10) < 0 ? 0 : at - int(10), at), out.subarray(at)]);
        }
        default: {
          // Flip a type byte-like position: single bits deep inside documents.
          const at = 4 + int(Math.max(1, out.length - 4));
          if (at < out.length) out[at] = (out[at] ?? 0) ^ (1 << int(8));
          return out;
        }
      }
    }
    function randomBody(): { body: Uint8Array; maxDocs: number } {
      switch (int(6)) {
        case 5: {
          // A recursive embedded type nested 1 to 20,000 deep (sometimes damaged): a verdict or a
          // 400 for the envelope, never a stack overflow.
          const entries = Array.from({ length: 1 + int(2) }, (_, i) => ({
            seq: i + 1,
            table: "Tree",
            bson: encodeDeepTree(1 + int(random() < 0.5 ? 100 : 20_000)),
          }));
          const body = encodeRawBatch(newQueueId(), entries);
          return { body: random() < 0.3 ? mutate(body) : body, maxDocs: entries.length };
        }
        case 0:
          return {
            body: new Uint8Array(Array.from({ length: int(300) }, () => int(256))),
            maxDocs: 0,
          };
        case 1:
        case 2: {
          const entries = validEntries();
          return {
            body: mutate(encodeBatch(newQueueId(), entries)),
            maxDocs: entries.length,
          };
        }
        case 3: {
          const entries = Array.from({ length: 1 + int(3) }, (_, i) => ({
            seq: i + 1,
            table: pick(["WeatherSensor", "AllTypes", "device_event"]),
            doc: randomDoc(0),
          }));
          return {
            body: encodeBatch(newQueueId(), entries),
            maxDocs: entries.length,
          };
        }
        default: {
          const envelope: Record<string, unknown> = {
            queueId: random() < 0.7 ? newQueueId() : randomValue(2),
            documents:
              random() < 0.8
                ? Array.from({ length: int(3) }, () => ({
                    seq: randomValue(2),
                    table: random() < 0.5 ? "WeatherSensor" : randomValue(2),
                    doc: random() < 0.5 ? makeWeatherDoc(1) : randomValue(1),
                  }))
                : randomValue(1),
          };
          return { body: serialize(envelope), maxDocs: 3 };
        }
      }
    }

    it(`answers ${iterations} random and mutated ingest bodies without a 5xx, writing only for 200s`, async () => {
      const statuses = new Map<number, number>();
      let counts = await server.store.countRows();
      const total = (c: Record<string, number>) =>
        Object.entries(c)
          .filter(([k]) => k !== "asymgen_queues")
          .reduce((sum, [, n]) => sum + n, 0);
      for (let i = 0; i < iterations; i++) {
        const { body, maxDocs } = randomBody();
        const result = await postIngest(server.url, appId, token, body);
        statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
        const after = await server.store.countRows();
        if (
          result.status >= 500 ||
          (result.status !== 200 && total(after) !== total(counts)) ||
          total(after) - total(counts) > maxDocs * 2
        ) {
          throw new Error(
            `iteration ${i} (seed ${seed}): status ${result.status} ${JSON.stringify(result.error)}; rows ${total(counts)} → ${total(after)}; body ${Buffer.from(body).toString("hex").slice(0, 400)}`,
          );
        }
        counts = after;
      }
      console.log(`fuzz seed ${seed}: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
      expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
      expect(statuses.get(400) ?? 0).toBeGreaterThan(0);
      expect((await callJson(server.url, "GET", "/health")).status).toBe(200);
    });

    it("answers random auth bodies without a 5xx, and parses every one (no 429)", async () => {
      const paths = [
        "anon-user/login",
        "local-userpass/login",
        "local-userpass/register",
        "api-key/login",
        "custom-token/login",
        "nope/login",
      ].map((p) => `/api/client/v2.0/app/${appId}/auth/providers/${p}`);
      for (let i = 0; i < 300; i++) {
        const bodyValue = pick<unknown>([
          {},
          [],
          "x",
          null,
          1,
          { email: randomValue(3), password: randomValue(3) },
          {
            username: "a@b.c",
            password: pick(["", "x".repeat(200), "secret1"]),
          },
          { key: pick(["", ".", "a.b", "x".repeat(500)]) },
          { token: pick(["", "a.b.c", "..", "e30.e30.", "x"]) },
        ]);
        const route = pick(paths);
        const body = random() < 0.9 ? JSON.stringify(bodyValue) : "{not json";
        const response = await fetch(`${server.url}${route}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
        const answer = await response.text();
        // A 429 was answered before the body was parsed: that body was never fuzzed.
        if (response.status >= 500 || response.status === 429)
          throw new Error(`iteration ${i} (seed ${seed}): POST ${route} ${JSON.stringify(body)} → ${response.status} ${answer}`);
        const token = pick(["", "Bearer", "Bearer x", "Bearer a.b.c", `Bearer ${"x".repeat(3000)}`]);
        const method = pick(["POST", "DELETE"]);
        const session = await fetch(`${server.url}/api/client/v2.0/auth/session`, { method, headers: { authorization: token } });
        const sessionAnswer = await session.text();
        if (session.status >= 500)
          throw new Error(
            `iteration ${i} (seed ${seed}): ${method} session with "${token.slice(0, 40)}" → ${session.status} ${sessionAnswer}`,
          );
      }
    });

    /** Random JSON: what a token's claims or header may carry besides the checked ones. */
    function randomJson(depth: number): unknown {
      switch (int(depth > 2 ? 5 : 7)) {
        case 0:
          return null;
        case 1:
          return random() < 0.5;
        case 2:
          return pick([0, -0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 53 + 1]);
        case 3:
          return pick(["", "NaN", "Infinity", "-1", "1e999", "\u0000", "ünï🚀", "x".repeat(int(2000))]);
        case 4:
          return pick([[], {}]);
        case 5:
          return Array.from({ length: int(4) }, () => randomJson(depth + 1));
        default: {
          const object: Record<string, unknown> = {};
          for (let k = int(4); k > 0; k--)
            Object.defineProperty(object, pick(["__proto__", "constructor", "exp", "sub", "a", `k${int(100)}`]), {
              value: randomJson(depth + 1),
              enumerable: true,
              writable: true,
              configurable: true,
            });
          return object;
        }
      }
    }

    /** A custom token being built: its header, claims and how it gets signed. */
    interface TokenDraft {
      header: Record<string, unknown>;
      claims: Record<string, unknown>;
      /** The algorithm actually signed with (the header's alg may lie). */
      signAs: string;
      key: string;
      /** Applied to the signed token: break its signature or shape. */
      finish: (token: string) => string;
    }
    type Mutation = [name: string, breaks: boolean, apply: (draft: TokenDraft, now: number) => void];
    const set =
      (part: "header" | "claims", name: string, values: (now: number) => readonly unknown[]) => (draft: TokenDraft, now: number) => {
        draft[part][name] = pick(values(now));
      };
    const remove = (part: "header" | "claims", name: string) => (draft: TokenDraft) => {
      delete draft[part][name];
    };
    const year5138 = Date.UTC(5138, 0, 1) / 1000;
    const notNumbers = ["9999999999", "NaN", null, {}, [], true, { $numberLong: "1" }];
    // Every value below is at least 60 s away from a limit (30 s tolerance, 1 h maximum age), so
    // no verdict depends on how long a request takes.
    const mutations: Mutation[] = [
      ["exp not a number", true, set("claims", "exp", () => notNumbers)],
      ["exp in the past", true, set("claims", "exp", (now) => [now - 300, -1, 0, -1e308])],
      ["exp too far ahead", true, set("claims", "exp", (now) => [year5138, 1e308, now + 7200, Number.MAX_SAFE_INTEGER])],
      ["no exp", true, remove("claims", "exp")],
      ["iat not a number", true, set("claims", "iat", () => notNumbers)],
      ["iat too old or ahead", true, set("claims", "iat", (now) => [now - 7200, 0, -1e308, now + 300, 1e308])],
      ["no iat", true, remove("claims", "iat")],
      ["nbf ahead or not a number", true, set("claims", "nbf", (now) => [now + 300, 1e308, ...notNumbers])],
      [
        "sub not a usable string",
        true,
        set("claims", "sub", () => [
          123,
          "",
          { id: "x" },
          ["a"],
          null,
          true,
          "\u0000x",
          "a\ud800",
          "x".repeat(600),
          crypto.randomBytes(1500).toString("hex"),
        ]),
      ],
      ["no sub", true, remove("claims", "sub")],
      ["aud wrong", true, set("claims", "aud", () => ["other", 5, {}, [], ["other"], null, jwtAudience.toUpperCase()])],
      ["no aud", true, remove("claims", "aud")],
      ["iss wrong", true, set("claims", "iss", () => ["other", [jwtIssuer], 5, null, `${jwtIssuer} `])],
      ["no iss", true, remove("claims", "iss")],
      [
        "alg not HS256",
        true,
        (draft) => {
          draft.header["alg"] = pick(["none", "HS384", "HS512", "RS256", "ES256", "hs256", "", 1, null, {}]);
          draft.signAs =
            typeof draft.header["alg"] === "string" && /^HS(384|512)$/.test(draft.header["alg"]) ? draft.header["alg"] : "HS256";
          if (draft.header["alg"] === "none") draft.finish = (token) => token.replace(/[^.]*$/, "");
        },
      ],
      ["no alg", true, remove("header", "alg")],
      [
        "crit not understood",
        true,
        (draft) => {
          const [crit, extra] = pick<[unknown, Record<string, unknown>]>([
            [["urn:example:x"], { "urn:example:x": 1 }],
            [[], {}],
            ["b64", { b64: false }],
            [[1], {}],
            [["b64"], { b64: false }],
            [["b64"], {}],
            [["alg"], {}],
          ]);
          Object.assign(draft.header, { crit, ...extra });
        },
      ],
      [
        "embedded jwk of another key",
        true,
        (draft) => {
          draft.key = "an-attacker-secret-that-is-long-enough!!";
          draft.header["jwk"] = { kty: "oct", k: Buffer.from(draft.key).toString("base64url") };
        },
      ],
      [
        "signed with another secret",
        true,
        (draft) => {
          draft.key = pick(["another-secret-that-is-long-enough-too!!", jwtSecret.slice(0, -1), ""]);
        },
      ],
      [
        "signature or shape broken",
        true,
        (draft) => {
          draft.finish = pick<(token: string) => string>([
            (token) => token.slice(0, -2),
            (token) => token.replace(/[^.]*$/, ""),
            (token) => `${token}.e30`,
            (token) => token.split(".").slice(0, 2).join("."),
            (token) => {
              const [head, , signature] = token.split(".");
              const tampered = Buffer.from(JSON.stringify({ ...draft.claims, sub: "tampered" })).toString("base64url");
              return `${head}.${tampered}.${signature}`;
            },
            (token) => ` ${token}`,
            (token) => token.replaceAll(".", ".."),
          ]);
        },
      ],
      // Intact variations: a verdict must not change for these.
      [
        "extra claims",
        false,
        (draft) => {
          for (let k = 1 + int(3); k > 0; k--)
            Object.defineProperty(draft.claims, pick(["jti", "data", "nested", "__proto__", "constructor", `c${int(100)}`]), {
              value: randomJson(0),
              enumerable: true,
              writable: true,
              configurable: true,
            });
        },
      ],
      [
        "odd kid, typ, jku, x5u",
        false,
        (draft) => {
          draft.header[pick(["kid", "typ", "jku", "x5u", "cty"])] = randomJson(1);
        },
      ],
      ["times within tolerance", false, set("claims", "nbf", (now) => [now - 100, now, now + 5])],
      ["exp near", false, set("claims", "exp", (now) => [now + 5, now - 5, now + 3500])],
      ["iat near", false, set("claims", "iat", (now) => [now - 3500, now + 5, now - 5])],
      ["aud among others", false, set("claims", "aud", () => [[jwtAudience], ["x", jwtAudience, 5], [jwtAudience, {}]])],
      [
        "unicode sub",
        false,
        (draft) => {
          draft.claims["sub"] = `ünï-🚀-${String(draft.claims["sub"])}`;
        },
      ],
    ];

    it(`answers ${Math.ceil(iterations / 5)} random custom tokens without a 5xx, and with a 200 exactly when intact`, async () => {
      const loginRoute = `/api/client/v2.0/app/${appId}/auth/providers/custom-token/login`;
      const statuses = new Map<number, number>();
      for (let i = 0; i < Math.ceil(iterations / 5); i++) {
        const now = Math.floor(Date.now() / 1000);
        // Intact variations first, so none of them can restore what a breaking one removed.
        const applied = Array.from({ length: int(4) }, () => pick(mutations)).sort(([, a], [, b]) => Number(a) - Number(b));
        const broken = applied.some(([, breaks]) => breaks);
        // A refused token's subject must never reach the store: each refused one has its own.
        const subject = broken ? `refused-${seed}-${i}` : `fuzz-${int(20)}`;
        const draft: TokenDraft = {
          header: { alg: "HS256", typ: "JWT" },
          claims: { sub: subject, iat: now, exp: now + 600, aud: jwtAudience, iss: jwtIssuer },
          signAs: "HS256",
          key: jwtSecret,
          finish: (token) => token,
        };
        for (const [, , apply] of applied) apply(draft, now);
        const token = draft.finish(signTestJwt(draft.header, draft.claims, draft.key, draft.signAs));
        const result = await callJson(server.url, "POST", loginRoute, { body: { token } });
        statuses.set(result.status, (statuses.get(result.status) ?? 0) + 1);
        const stored = broken ? await server.store.getAuthRecord("identity", `custom-token:${subject}`) : null;
        if (result.status >= 500 || (broken ? result.status === 200 || stored !== null : result.status !== 200)) {
          throw new Error(
            `iteration ${i} (seed ${seed}): ${applied.map(([name]) => name).join(", ") || "no mutation"} → ${result.status} ${JSON.stringify(result.json).slice(0, 200)}${stored !== null ? " (identity stored)" : ""}; header ${JSON.stringify(draft.header).slice(0, 300)} claims ${JSON.stringify(draft.claims).slice(0, 300)}`,
          );
        }
      }
      console.log(`fuzz seed ${seed}: custom-token statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
      expect(statuses.get(200) ?? 0).toBeGreaterThan(0);
      expect(statuses.get(401) ?? 0).toBeGreaterThan(0);
    });
  });
}
