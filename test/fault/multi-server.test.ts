/**
 * What the README promises past one machine: several `asymgen serve` processes on one PostgreSQL
 * database behind a load balancer (here a round-robin TCP proxy that skips a target refusing
 * connections). Four devices stream through it while a rolling restart happens under them: one
 * server is SIGKILLed at a seeded moment (just before or just after committing its N-th batch,
 * or from outside at a seeded time), the other carries on alone, the killed one is restarted and
 * put back behind the proxy, and then the other is SIGKILLed too, so the restarted one has to take
 * the stream. At the end every document is stored exactly once, in its own queue slot, and every
 * device's queue is drained. The seed is printed; ASYMGEN_FAULT_SEED replays a run.
 *
 * A second test starts two servers together without a configured access-token secret, as two
 * machines would (each its own working directory): each makes its own key file (the secret is
 * never kept in the store), so each refuses the other's tokens, and a device behind the balancer
 * must still get every document stored once (a refused token is refreshed and retried).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "@jest/globals";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { createSeededRandom } from "../support/seeded-random.mjs";
import { createTestDatabase, type TestDatabase } from "../support/postgres.js";
import { spawnIngestServer, type SpawnedServer } from "../support/spawn-ingest-server.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import {
  closeAllDevices,
  type Device,
  idKeyOf,
  ingestRange,
  makeTempDir,
  openDevice,
  openStoreForReading,
  readStoredIdKeys,
  removeTempDir,
  syncTable,
  uploadAll,
  writeSchemaFile,
} from "../e2e/sync-stack.js";

/** Where the first kill lands: the server's own crash hook at a commit, or a SIGKILL from the test. */
type KillPoint = "before-commit" | "after-commit" | "external";
const killPoints: readonly KillPoint[] = ["before-commit", "after-commit", "external"];

const deviceCount = 4;
/** Documents per device per round of writes (two transactions of 10). */
const perRound = 20;
/** Device `d` writes documents `d * deviceStride + 1 …`: disjoint `_id`s, and the number says whose. */
const deviceStride = 1_000_000;
const batchReceived = /"msg":"batch received"/;

const database: TestDatabase | null = await createTestDatabase("multi_server");
let dir: string;
const servers: SpawnedServer[] = [];
let proxy: TcpProxy | null = null;

beforeAll(() => {
  dir = makeTempDir("fault-multi-server");
});

afterEach(async () => {
  closeAllDevices();
  await proxy?.close();
  proxy = null;
  // A failed run must not leave a server behind.
  await Promise.all(servers.map((server) => killServer(server)));
  servers.length = 0;
});

afterAll(async () => {
  await database?.drop();
  removeTempDir(dir);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Its port (from the "listening on" URL), for the proxy. */
function portOf(server: SpawnedServer): number {
  return Number(new URL(server.url).port);
}

function isRunning(server: SpawnedServer): boolean {
  return server.child.exitCode === null && server.child.signalCode === null;
}

/** SIGKILLs the server (if still running) and waits until it is gone. */
async function killServer(server: SpawnedServer): Promise<void> {
  if (isRunning(server)) server.child.kill("SIGKILL");
  await server.exited;
}

/** How many batches the server logged as received (debug log). */
function batchesOf(server: SpawnedServer): number {
  return server.out.lines.filter((line) => batchReceived.test(line)).length;
}

/** The server's answers by status, e.g. `200×40 401×2` (debug log). */
function statusesOf(server: SpawnedServer): string {
  const counts = new Map<string, number>();
  for (const line of server.out.lines) {
    const status = /"msg":"request".*"status":(\d+)/.exec(line)?.[1];
    if (status !== undefined) counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return [...counts].sort().map(([status, n]) => `${status}×${n}`).join(" ");
}

/** Log lines that mean a server failed a request (a 500, an error-level log). */
function failuresOf(server: SpawnedServer): string[] {
  return server.out.lines.filter((line) => /"level":"error"|"status":5\d\d/.test(line) && !/"status":503/.test(line));
}

/**
 * Spawns `asymgen serve` on `storeUrl` in its own working directory (as its own machine would be:
 * nothing on disk is shared but the database), logging every batch.
 */
async function spawnServer(label: string, storeUrl: string, schemaFile: string, env: Record<string, string>): Promise<SpawnedServer> {
  const cwd = path.join(dir, label);
  fs.mkdirSync(cwd, { recursive: true });
  const args = ["--schema", schemaFile, "--app-id", "e2e", "--host", "127.0.0.1", "--port", "0", "--store", storeUrl, "--log-level", "debug"];
  const server = await spawnIngestServer(args, env, cwd);
  servers.push(server);
  return server;
}

/** One round of writes on every device: the next `perRound` documents of each. */
function writeRound(devices: readonly Device[], written: number[]): void {
  devices.forEach((device, d) => {
    const from = d * deviceStride + (written[d] ?? 0) + 1;
    ingestRange(device.realm, from, from + perRound - 1, 10, `device-${d}`);
    written[d] = (written[d] ?? 0) + perRound;
  });
}

/** Writes rounds every `pauseMs` until `done()` or `maxMs`; false when it timed out. */
async function streamUntil(devices: readonly Device[], written: number[], done: () => boolean, maxMs: number, pauseMs = 30): Promise<boolean> {
  const deadline = Date.now() + maxMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    writeRound(devices, written);
    await sleep(pauseMs);
  }
  return true;
}

/** The statuses `b` answers with a token `a` issued, and `a` with one of `b`'s. */
async function crossCheckTokens(a: string, b: string): Promise<[number, number]> {
  return [await profileStatusAt(b, await loginAt(a)), await profileStatusAt(a, await loginAt(b))];
}

/** Anonymous login straight at one server: its access token. */
async function loginAt(url: string): Promise<string> {
  const response = await fetch(`${url}/api/client/v2.0/app/e2e/auth/providers/anon-user/login`, { method: "POST", body: "{}" });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** The status another server answers a profile request made with `token`. */
async function profileStatusAt(url: string, token: string): Promise<number> {
  const response = await fetch(`${url}/api/client/v2.0/auth/profile`, { headers: { authorization: `Bearer ${token}` } });
  await response.arrayBuffer();
  return response.status;
}

/** A GET on a connection of its own (no keep-alive): which backend answered. */
function getOnNewConnection(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = "";
        res.on("data", (chunk: Buffer) => (body += chunk.toString()));
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

test("the balancer: each new connection goes to the next target; a refused target is skipped for the next", async () => {
  const backends = await Promise.all(
    ["a", "b"].map(
      (name) =>
        new Promise<http.Server>((resolve) => {
          const server = http.createServer((_req, res) => res.end(name));
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const [a, b] = backends.map((server) => (server.address() as AddressInfo).port) as [number, number];
  // A port nothing listens on: a backend that died.
  const dead = await new Promise<number>((resolve) => {
    const probe = http.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const balancer = await TcpProxy.start([a, dead, b]);
  try {
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await getOnNewConnection(balancer.url));
    // a, dead → b, b, a, dead → b, b: the request sent to the dead one arrives whole at the next.
    expect(answers).toEqual(["a", "b", "b", "a", "b", "b"]);
    expect(balancer.stats.failovers).toBe(2);
    expect([...balancer.stats.byTarget].sort()).toEqual([[a, 2], [b, 4]].sort());
    balancer.setTargets([dead]);
    await expect(getOnNewConnection(balancer.url)).rejects.toThrow();
  } finally {
    await balancer.close();
    await Promise.all(backends.map((server) => new Promise((resolve) => server.close(resolve))));
  }
});

const suite = database === null ? describe.skip : describe;

suite("several servers on one PostgreSQL behind a round-robin load balancer", () => {
  test("a rolling restart under four streaming devices (SIGKILL, restart, SIGKILL the other): every document stored exactly once", async () => {
    const seed = Number(process.env["ASYMGEN_FAULT_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
    const random = createSeededRandom(seed);
    const point = killPoints[Math.floor(random() * killPoints.length)]!;
    const victimIndex = random() < 0.5 ? 0 : 1;
    // The victim's 3rd to 10th batch: after both servers have taken traffic, well before the end.
    const killAtBatch = 3 + Math.floor(random() * 8);
    const externalDelayMs = Math.floor(random() * 40);
    const secondKillAfterMs = 150 + Math.floor(random() * 350);
    console.log(
      `multi-server: seed ${seed} (replay with ASYMGEN_FAULT_SEED=${seed}): server ${victimIndex} killed ${point} at its batch ${killAtBatch}` +
        `${point === "external" ? ` + ${externalDelayMs} ms` : ""}, the other ${secondKillAfterMs} ms after the restart`,
    );
    const started = Date.now();
    const storeUrl = database!.url;
    const schemaFile = writeSchemaFile(path.join(dir, "schema.json"));
    // The same 32-byte secret on every server: a token one signs, the others accept.
    const env = {
      ASYMGEN_SECRET: crypto.randomBytes(32).toString("base64"),
      // Tokens expire during the run: refreshes go through the balancer to either server too.
      ASYMGEN_ACCESS_TOKEN_TTL: "2s",
    };
    const crashHook = { ASYMGEN_FAULT_CRASH: point, ASYMGEN_FAULT_CRASH_AFTER: String(killAtBatch) };
    // Both start at once on the fresh database: they race to create the tables.
    const first = await Promise.all(
      [0, 1].map((i) => spawnServer(`server-${i}`, storeUrl, schemaFile, i === victimIndex && point !== "external" ? { ...env, ...crashHook } : env)),
    );
    const victim = first[victimIndex]!;
    const survivor = first[1 - victimIndex]!;
    // A token either signs is good at the other (the devices would mostly cope without: a 401
    // makes them refresh, and the retry often lands where the token came from).
    expect(await crossCheckTokens(first[0]!.url, first[1]!.url)).toEqual([200, 200]);
    proxy = await TcpProxy.start(first.map(portOf));
    const devices = await Promise.all(
      Array.from({ length: deviceCount }, (_, d) =>
        openDevice(proxy!.url, path.join(dir, `device-${d}`), { sync: { maxBatchDocuments: 40, requestTimeoutMs: 3000 } }),
      ),
    );
    const written = devices.map(() => 0);

    // 1. Both serve until the victim dies at its seeded batch.
    let killScheduled = false;
    const killedVictim = streamUntil(
      devices,
      written,
      () => {
        if (point === "external" && !killScheduled && batchesOf(victim) >= killAtBatch) {
          killScheduled = true;
          setTimeout(() => victim.child.kill("SIGKILL"), externalDelayMs);
        }
        return !isRunning(victim);
      },
      15_000,
      25,
    );
    expect(await killedVictim).toBe(true);
    const firstKillMs = Date.now() - started;
    expect((await victim.exited).signal).toBe("SIGKILL");
    const victimBatches = batchesOf(victim);
    const survivorBatchesAtKill = batchesOf(survivor);
    const pendingAtKill = devices.reduce((sum, device) => sum + device.realm.queueStats().pendingDocuments, 0);

    // 2. The survivor alone; the balancer still lists the dead one and skips it.
    const deadAt = Date.now();
    await streamUntil(devices, written, () => Date.now() - deadAt > 400, 5_000);

    // 3. The victim comes back on a new port and rejoins; then the survivor is SIGKILLed mid-stream.
    const restartStarted = Date.now();
    const restarted = await spawnServer("server-restarted", storeUrl, schemaFile, env);
    const restartMs = Date.now() - restartStarted;
    proxy.setTargets([portOf(survivor), portOf(restarted)]);
    const rejoinedAt = Date.now();
    await streamUntil(devices, written, () => Date.now() - rejoinedAt > secondKillAfterMs, 5_000);
    await killServer(survivor);
    const secondKillAt = Date.now();
    await streamUntil(devices, written, () => Date.now() - secondKillAt > 400, 5_000);
    const drainStarted = Date.now();
    await Promise.all(devices.map((device) => uploadAll(device, 30_000)));
    const drainMs = Date.now() - drainStarted;
    const elapsed = Date.now() - started;

    const stats = proxy.stats;
    console.log(
      `multi-server: seed ${seed}: ${written.reduce((a, b) => a + b, 0)} documents in ${elapsed} ms (first kill at ${firstKillMs}, ` +
        `restart took ${restartMs}, final drain ${drainMs}); batches: victim ${victimBatches}, ` +
        `survivor ${batchesOf(survivor)} (${survivorBatchesAtKill} at the kill), restarted ${batchesOf(restarted)}; ${pendingAtKill} pending at the kill; ` +
        `answers: victim ${statusesOf(victim)}, survivor ${statusesOf(survivor)}, restarted ${statusesOf(restarted)}; ` +
        `proxy: ${stats.connections} connections, ${stats.failovers} failovers, by target ${JSON.stringify([...stats.byTarget])}`,
    );
    // The balancer spread the stream: both first servers took batches before the kill.
    expect(victimBatches).toBeGreaterThanOrEqual(killAtBatch);
    expect(survivorBatchesAtKill).toBeGreaterThan(0);
    // The restarted server took over after the second kill.
    expect(batchesOf(restarted)).toBeGreaterThan(0);
    for (const device of devices) expect(device.realm.queueStats().pendingDocuments).toBe(0);
    // No rejection (a retry taken for a duplicate), no refused token, nothing else reported.
    expect(devices.flatMap((device) => device.errors.map((error) => `${error.name}: ${error.message}`))).toEqual([]);
    for (const server of [victim, survivor, restarted]) expect(failuresOf(server)).toEqual([]);
    await killServer(restarted);

    // Exactly once: every document, none twice (a duplicate key would show twice), nothing else.
    const expected = devices.flatMap((_, d) => Array.from({ length: written[d]! }, (__, i) => idKeyOf(d * deviceStride + i + 1))).sort();
    expect(await readStoredIdKeys(storeUrl)).toEqual(expected);
    // Each in its own queue slot: one queue per device, its seqs 1..N each once, the mark at N.
    const store = await openStoreForReading(storeUrl);
    try {
      const docs = await store.readDocuments(syncTable);
      const seqsByQueue = new Map<string, bigint[]>();
      for (const doc of docs) seqsByQueue.set(doc.queueId, [...(seqsByQueue.get(doc.queueId) ?? []), doc.seq]);
      expect(seqsByQueue.size).toBe(deviceCount);
      for (const [queueId, seqs] of seqsByQueue) {
        const sorted = seqs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        expect(sorted).toEqual(Array.from({ length: sorted.length }, (_, i) => BigInt(i + 1)));
        expect((await store.readQueue(queueId))?.highSeq).toBe(BigInt(sorted.length));
      }
      expect((await store.countRows())["asymgen_rejections"]).toBe(0);
    } finally {
      await store.close();
    }
  }, 90_000);

  test("two servers started together without a configured secret refuse each other's tokens (the secret is per machine); a device gets through all the same", async () => {
    const secretless = await createTestDatabase("multi_server_nosecret");
    if (secretless === null) throw new Error("PostgreSQL became unreachable");
    try {
      const schemaFile = writeSchemaFile(path.join(dir, "schema-nosecret.json"));
      // No ASYMGEN_SECRET (a value inherited from the shell would hide what this checks).
      const env = { ASYMGEN_SECRET: "" };
      const [a, b] = await Promise.all(["a", "b"].map((label) => spawnServer(`nosecret-${label}`, secretless.url, schemaFile, env)));
      const crossed = await crossCheckTokens(a!.url, b!.url);
      const store = await openStoreForReading(secretless.url);
      try {
        // The secret is kept per machine (here: each server's own key file), never in the store,
        // which downstream readers are given.
        expect(await store.getAuthRecord("secret", "access-token")).toBeNull();
      } finally {
        await store.close();
      }
      // So a token from one server is a clean 401 at the other: servers behind one balancer
      // need the same ASYMGEN_SECRET (the case above).
      expect(crossed).toEqual([401, 401]);

      // Behind the balancer, a device still stores everything once, whatever the secrets: a
      // refused token is refreshed (refresh tokens live in the store) and the batch retried.
      proxy = await TcpProxy.start([a!, b!].map(portOf));
      const device = await openDevice(proxy.url, path.join(dir, "device-nosecret"), { sync: { maxBatchDocuments: 40 } });
      const written = [0];
      await streamUntil([device], written, () => written[0]! >= 400, 10_000);
      await uploadAll(device, 20_000);
      expect(await readStoredIdKeys(secretless.url)).toEqual(Array.from({ length: 400 }, (_, i) => idKeyOf(i + 1)).sort());
      // The only thing it may say: a freshly refreshed token was refused (by the other server).
      expect(device.errors.filter((error) => (error as { code?: string }).code !== "invalid_session")).toEqual([]);
      for (const server of [a!, b!]) expect(failuresOf(server)).toEqual([]);
    } finally {
      closeAllDevices();
      await proxy?.close();
      proxy = null;
      await Promise.all(servers.map((server) => killServer(server)));
      await secretless.drop();
    }
    // As the rolling restart above: two servers to start, up to 10 s of streaming and 20 s of
    // upload inside; 45 s left a loaded 2-core machine no room for the starts.
  }, 90_000);
});
