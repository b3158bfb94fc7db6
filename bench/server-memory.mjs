/**
 * Server memory under overload: the real `asymgen serve` process (dist/) on a temp SQLite store
 * slowed to 500 ms a commit (the test hook: a slow store is where bodies pile up), hammered by
 * CLIENTS concurrent uploaders each resending one BATCH_MIB batch (after the first, a retry)
 * for BENCH_SECONDS; once with the default in-flight byte budget (64 MiB) and once with it lifted
 * (1 GiB: the behaviour before the budget). Prints the server's peak RSS (from /proc/<pid>/status)
 * and its answers; run it with two CLIENTS values to see whether the peak follows the load.
 * Run: npm run bench:server-memory (CLIENTS, BATCH_MIB, BENCH_SECONDS, COMMIT_DELAY_MS).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Double, Long, ObjectId, serialize } from "bson";
import { readRss } from "./proc-stats.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLIENTS = Number(process.env.CLIENTS ?? 48);
const BATCH_MIB = Number(process.env.BATCH_MIB ?? 4);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const appId = "memory-bench";

const schema = [
  {
    name: "WeatherSensor",
    asymmetric: true,
    embedded: false,
    primaryKey: "id",
    properties: {
      id: { name: "id", type: "objectId", optional: false, indexed: false, mapTo: "_id" },
      deviceId: { name: "deviceId", type: "string", optional: false, indexed: false, mapTo: "deviceId" },
      temperatureInFahrenheit: {
        name: "temperatureInFahrenheit",
        type: "double",
        optional: false,
        indexed: false,
        mapTo: "temperatureInFahrenheit",
      },
      windSpeedInMph: { name: "windSpeedInMph", type: "int", optional: false, indexed: false, mapTo: "windSpeedInMph" },
      notes: { name: "notes", type: "string", optional: true, indexed: false, mapTo: "notes" },
    },
  },
];

/** Resident set size of process `pid`, in bytes. */
const rssOf = (pid) => readRss(pid).rss * 1024 * 1024;

function batchBody(queueId, firstSeq) {
  const perDoc = 4096;
  const count = Math.floor((BATCH_MIB * 1024 * 1024) / (perDoc + 100));
  const documents = Array.from({ length: count }, (_, i) => ({
    seq: Long.fromNumber(firstSeq + i),
    table: "WeatherSensor",
    doc: {
      _id: new ObjectId(),
      deviceId: "d",
      temperatureInFahrenheit: new Double(70.5),
      windSpeedInMph: Long.fromNumber(3),
      notes: "x".repeat(perDoc),
    },
  }));
  return { body: serialize({ queueId, documents }), count };
}

async function run(label, extraArgs) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-memory-"));
  fs.writeFileSync(path.join(dir, "schema.json"), JSON.stringify(schema));
  const child = spawn(
    process.execPath,
    [
      path.join(root, "generator/dist/generator/cli.js"),
      "serve",
      "--schema",
      "schema.json",
      "--app-id",
      appId,
      "--port",
      "0",
      "--store",
      "sqlite:data.sqlite",
      // 48 clients log in anonymously from loopback, past one address's anonymous-user limit.
      "--auth-anonymous-users-per-address",
      "off",
      "--quiet",
      ...extraArgs,
    ],
    // A slow store (500 ms per commit, the test hook) is where bodies pile up: batches wait
    // holding their bytes, while a fast synchronous SQLite commit throttles reading by itself.
    {
      cwd: dir,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, ASYMGEN_ENABLE_TEST_HOOKS: "1", ASYMGEN_TEST_COMMIT_DELAY_MS: process.env.COMMIT_DELAY_MS ?? "500" },
    },
  );
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  const idle = rssOf(child.pid);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid))), 20);
  const statuses = {};
  let stored = 0;
  const deadline = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const login = await (
        await fetch(`${url}/api/client/v2.0/app/${appId}/auth/providers/anon-user/login`, {
          method: "POST",
          body: "{}",
          headers: { "content-type": "application/json" },
        })
      ).json();
      // One body per client, sent again and again: after the first it is a retry the store skips,
      // so the run measures what the server holds while reading and checking bodies, not the disk.
      const { body, count } = batchBody(crypto.randomUUID(), 1);
      let first = true;
      while (Date.now() < deadline) {
        const response = await fetch(`${url}/api/client/v2.0/app/${appId}/ingest`, {
          method: "POST",
          headers: { authorization: `Bearer ${login.access_token}`, "content-type": "application/bson" },
          body,
        }).catch(() => null);
        const status = response?.status ?? "reset";
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (response) await response.arrayBuffer();
        if (status === 200) {
          if (first) stored += count;
          first = false;
        } else await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }),
  );
  clearInterval(sampler);
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  fs.rmSync(dir, { recursive: true, force: true });
  const mib = (n) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
  console.log(
    `${label.padEnd(28)} idle ${mib(idle).padStart(8)}  peak ${mib(peak).padStart(8)}  answers ${JSON.stringify(statuses)}  stored ${stored}`,
  );
  return peak;
}

console.log(`${CLIENTS} clients, ${BATCH_MIB} MiB batches, ${SECONDS} s each run`);
const bounded = await run("budget 64 MiB (default)", []);
const unbounded = await run("budget 1 GiB (no bound)", ["--max-in-flight-bytes", String(1024 * 1024 * 1024), "--max-in-flight", "1000"]);
console.log(`peak RSS ratio bounded/unbounded: ${(bounded / unbounded).toFixed(2)}`);
