// The SQLite ingest server's own CPU per WeatherSensor document, by thread, without the clients'
// work: `asymgen serve` (a separate process, as in bench:sync) receives request bodies encoded
// before the clock (1000 documents each, the bench's batch size) from CLIENTS concurrent
// senders on node:http keep-alive connections, each sender one anonymous user and one queue,
// its batches gated one after the other as a client's are. Read from /proc: the server's CPU
// (user + system) over the timed upload, its main thread's, its busiest other thread's (the
// SQLite worker) and the rest (GC helpers, libuv). On a shared machine bench:sync's ratios move
// with whatever else runs; CPU per document of the server alone moves less, and says which
// thread a change moved. Linux only (/proc). Run with `npm run build && node
// bench/sqlite-server-cpu.mjs [CLIENTS=16] [DOCS_PER_CLIENT=6000]` (or `npm run bench:server-cpu -- 16 6000`).
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { DeviceEvent, Location, Reading, WeatherSensor } from "../build/examples/weather/models.realm.js";
import { encodeIngestRequest } from "../runtime/dist/sync/encode-ingest-request.js";
import { startIngestServerProcess } from "./ingest-server-process.mjs";
import { encodeSample, sampleDocument } from "./weather-sample.mjs";
import { processCpuMicros, threadsCpuMicros } from "./proc-stats.mjs";

const CLIENTS = Number(process.argv[2] ?? 16);
const PER_CLIENT = Number(process.argv[3] ?? 6000);
const BATCH = 1000;
const WARM_UP_PER_CLIENT = 2000;
const root = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-bench-server-cpu-"));
const schemaFile = path.join(root, "schema.json");
fs.writeFileSync(schemaFile, JSON.stringify([WeatherSensor, Reading, Location, DeviceEvent].map((model) => model.schema)));

const { child, url: base } = await startIngestServerProcess({ schemaFile, storeUrl: `sqlite:${path.join(root, "ingest.sqlite")}` });

let nextDocument = 0;
/** An ingest request body of BATCH documents, seqs from `firstSeq`, gated on the batch before, as the client's session encodes it. */
function requestBody(queueId, firstSeq) {
  const documents = [];
  for (let i = 0; i < BATCH; i++) documents.push({ seq: firstSeq + i, table: "WeatherSensor", bson: encodeSample(sampleDocument(nextDocument++)) });
  return encodeIngestRequest(queueId, documents, firstSeq > 1 ? firstSeq - 1 : undefined);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS * 2 });
function post(route, body, headers) {
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}${route}`, { method: "POST", agent, headers: { ...headers, "content-length": body.length } }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode, body: Buffer.concat(chunks) }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

/** Uploads `perClient` documents from each of CLIENTS senders (bodies encoded first); returns the CPU per document by thread. */
async function upload(perClient, label) {
  const senders = [];
  for (let c = 0; c < CLIENTS; c++) {
    const login = await post("/api/client/v2.0/app/bench/auth/providers/anon-user/login", Buffer.from("{}"), { "content-type": "application/json" });
    const token = JSON.parse(login.body.toString()).access_token;
    const bodies = [];
    for (let seq = 1; seq <= perClient; seq += BATCH) bodies.push(requestBody(`${label}-${c}`, seq));
    senders.push({ token, bodies });
  }
  const before = threadsCpuMicros(child.pid);
  const total0 = processCpuMicros(child.pid);
  const started = performance.now();
  await Promise.all(
    senders.map(async ({ token, bodies }) => {
      for (const body of bodies) {
        const answer = await post("/api/client/v2.0/app/bench/ingest", body, { "content-type": "application/bson", authorization: `Bearer ${token}` });
        if (answer.status !== 200) throw new Error(`ingest answered ${answer.status}: ${answer.body}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const total = processCpuMicros(child.pid) - total0;
  const spent = [...threadsCpuMicros(child.pid)].map(([tid, micros]) => [tid, micros - (before.get(tid) ?? 0)]);
  const main = spent.find(([tid]) => tid === String(child.pid))?.[1] ?? 0;
  const others = spent.filter(([tid]) => tid !== String(child.pid)).map(([, micros]) => micros).sort((a, b) => b - a);
  const documents = CLIENTS * perClient;
  return {
    total: total / documents,
    main: main / documents,
    worker: (others[0] ?? 0) / documents,
    rest: others.slice(1).reduce((sum, micros) => sum + micros, 0) / documents,
    rate: documents / seconds,
  };
}

try {
  await upload(WARM_UP_PER_CLIENT, "warm-up");
  const result = await upload(PER_CLIENT, "timed");
  const f = (micros) => micros.toFixed(2);
  console.log(
    `SQLite server CPU per WeatherSensor document, ${CLIENTS} client(s) × ${PER_CLIENT}: ${f(result.total)} µs (main thread ${f(result.main)}, ` +
      `SQLite worker ${f(result.worker)}, other threads ${f(result.rest)}); ${Math.round(result.rate)} docs/s (node ${process.version}, load ${os.loadavg()[0].toFixed(1)})`,
  );
} finally {
  child.kill("SIGTERM");
  await new Promise((resolve) => child.on("exit", resolve));
  agent.destroy();
  fs.rmSync(root, { recursive: true, force: true });
}
