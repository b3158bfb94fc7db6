// The browser benchmark (issue 13): durable WeatherSensor documents/s through the browser Realm
// in real Chromium, at 1, 10, 100 and 1000 documents per `writeAsync`, against, in the same run
// and in the same worker as the queue (bench/browser/bench-queue-worker.ts: the runtime's queue
// worker plus the baselines):
// - the floor: the same documents pre-encoded, per transaction one FileSystemSyncAccessHandle
//   write of the transaction's bytes at the file's end + flush() (what a durable append costs in
//   OPFS with nothing else: no encoding, no framing, no messages);
// - the peer, IndexedDB: per transaction one readwrite transaction putting each document's bytes
//   as a record, durability "strict" and "relaxed", awaited to `complete`.
// asymgen is measured on the page (bench/browser/bench-page.ts): `await realm.writeAsync(() =>
// { for … realm.ingest(WeatherSensor, init) })` one after another, inits built before the clock,
// storage "opfs" and (a second row) "indexeddb"; and on OPFS pipelined: BENCH_IN_FLIGHT (default 4)
// writeAsync calls kept outstanding, a new one started as each resolves (= is durable), as an app
// streaming telemetry would (it overlaps the page's encoding with the worker's flush, and lets
// transactions share a flush). Informative, to split asymgen's time: "encode" (the generated
// encoder alone, on the page) and "handoff" (a pre-encoded transaction transferred to the queue
// worker and handed back at once: the message round trip alone).
// Targets (issue 13): ≥ 0.8× the floor at 100 and 1000, ahead of IndexedDB strict at every size;
// the serial column is the issue's figure, the pipelined one is reported beside it.
//
// Run with `npm run bench:browser` (builds first). Chromium: ASYMGEN_CHROMIUM or Debian's
// /usr/bin/chromium, headless, a fresh profile; pages from http://127.0.0.1 (OPFS and Web Locks
// need a secure context). Every subject gets BENCH_CELL_MS (default 2500) per cell, in
// BENCH_ROUNDS (default 10) interleaved rounds, each round starting with the next subject;
// docs/s are medians over rounds, ratios medians of the per-round (paired) ratios. BENCH_SIZES
// (comma-separated) narrows the sizes; BENCH_ASYMGEN_IDB=0 drops the asymgen-on-IndexedDB row.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CELL_MS = Number(process.env.BENCH_CELL_MS ?? 2500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const WARM_MS = 300;
const SIZES = (process.env.BENCH_SIZES ?? "1,10,100,1000").split(",").map(Number);
const WITH_ASYMGEN_IDB = process.env.BENCH_ASYMGEN_IDB !== "0";
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 4);
// BENCH_PROFILE=1: after the largest size's rounds, CPU profiles of the page and of the queue
// worker during 2 s of asymgen-on-OPFS writes each (untimed), printed as the functions with the
// most self time: serial writeAsync, or with BENCH_PROFILE_PIPELINED=1 BENCH_IN_FLIGHT in flight
// (where the page's encoding and the worker's appends overlap, and either may be the bottleneck).
const PROFILE = process.env.BENCH_PROFILE === "1";
const PROFILED_SUBJECT = process.env.BENCH_PROFILE_PIPELINED === "1" ? "asymgen-opfs-pipelined" : "asymgen-opfs";
for (const [name, value] of [["BENCH_CELL_MS", CELL_MS], ["BENCH_ROUNDS", ROUNDS], ["BENCH_IN_FLIGHT", IN_FLIGHT], ...SIZES.map((s) => ["BENCH_SIZES", s])]) {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must hold positive integers, not ${String(value)}`);
}

/**
 * The test suite's Chromium launcher and page server (test/browser/support/), compiled for Node
 * by esbuild into build/ (Node 20 runs no TypeScript): one launcher for the tests and the bench.
 */
async function loadTestSupport() {
  const outdir = path.join(repoRoot, "build/bench-browser-support");
  await build({
    entryPoints: [path.join(repoRoot, "test/browser/support/chromium.ts"), path.join(repoRoot, "test/browser/support/page-server.ts")],
    outdir,
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    outExtension: { ".js": ".mjs" },
    logLevel: "silent",
  });
  const chromium = await import(pathToFileURL(path.join(outdir, "chromium.mjs")).href);
  const pageServer = await import(pathToFileURL(path.join(outdir, "page-server.mjs")).href);
  return { ...chromium, ...pageServer };
}

/**
 * `entry` bundled into one browser ES module, as the tests' bundle() does, but with "asymgen/codegen"
 * (what the generated models import) resolved to the runtime's source too: one copy of the runtime.
 */
async function bundleForBrowser(entry) {
  const aliases = { asymgen: "runtime/browser/index.ts", "asymgen/codegen": "runtime/codegen/index.ts" };
  const result = await build({
    entryPoints: [path.join(repoRoot, entry)],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    conditions: ["browser"],
    plugins: [
      {
        name: "asymgen-source",
        setup(b) {
          b.onResolve({ filter: /^asymgen(\/codegen)?$/ }, (args) => ({ path: path.join(repoRoot, aliases[args.path]) }));
        },
      },
    ],
    logLevel: "silent",
  });
  return { contentType: "text/javascript; charset=utf-8", body: result.outputFiles[0].text };
}

/** Adds one asymgen-on-OPFS round's timings (page and queue-worker probe) to the cell's totals. */
function addSplit(totals, round) {
  for (const [key, value] of Object.entries(round)) {
    if (typeof value === "number") totals[key] = (totals[key] ?? 0) + value;
    else totals[key] = value;
  }
}

/** Runs `work` under the page's CPU profiler (CDP); returns the functions with the most self time. */
async function profilePage(tab, work) {
  const session = await tab.context().newCDPSession(tab);
  await session.send("Profiler.enable");
  await session.send("Profiler.setSamplingInterval", { interval: 100 });
  await session.send("Profiler.start");
  await work();
  const { profile } = await session.send("Profiler.stop");
  await session.detach();
  return topSelfTime(profile);
}

/**
 * Runs `work` under the CPU profiler of the OPFS Realm's queue worker (the worker target whose
 * URL ends in "?opfs"), reached through the browser's CDP session with Target.sendMessageToTarget
 * (playwright opens CDP sessions on pages only).
 */
async function profileQueueWorker(browser, work) {
  const cdp = await browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send("Target.getTargets");
  const target = targetInfos.find((t) => t.type === "worker" && t.url.endsWith("/bench-queue-worker.js?opfs"));
  if (target === undefined) throw new Error(`no queue worker among the targets: ${targetInfos.map((t) => `${t.type} ${t.url}`).join(", ")}`);
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId: target.targetId, flatten: false });
  let nextId = 0;
  const waiting = new Map();
  cdp.on("Target.receivedMessageFromTarget", (event) => {
    if (event.sessionId !== sessionId) return;
    const message = JSON.parse(event.message);
    const waiter = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error) waiter?.reject(new Error(message.error.message));
    else waiter?.resolve(message.result);
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, { resolve, reject });
      void cdp.send("Target.sendMessageToTarget", { sessionId, message: JSON.stringify({ id, method, params }) }).catch(reject);
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  await work();
  const { profile } = await send("Profiler.stop");
  await cdp.send("Target.detachFromTarget", { sessionId });
  await cdp.detach();
  return topSelfTime(profile);
}

/** The 16 functions with the most self time in a CDP CPU profile, as "share% name file:line". */
function topSelfTime(profile) {
  const self = new Map();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || "(anonymous)"} ${url ? `${url.split("/").pop()}:${lineNumber + 1}` : ""}`.trim();
    self.set(key, (self.get(key) ?? 0) + hits);
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, 16).map(([name, hits]) => `${((hits * 100) / total).toFixed(1)}% ${name}`);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const support = await loadTestSupport();
const server = await support.startPageServer();
const [page, worker] = await Promise.all([bundleForBrowser("bench/browser/bench-page.ts"), bundleForBrowser("bench/browser/bench-queue-worker.ts")]);
server.put("/bench.html", support.html(`<!doctype html><link rel="icon" href="data:,"><title>asymgen bench</title><script type="module" src="/bench-page.js"></script>`));
server.put("/bench-page.js", page);
server.put("/bench-queue-worker.js", worker);
const profile = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-bench-browser-"));
const chromium = await support.startChromium(profile);
const version = chromium.browser.version();

const subjects = ["floor", "asymgen-opfs", "asymgen-opfs-pipelined", "idb-strict", "idb-relaxed", ...(WITH_ASYMGEN_IDB ? ["asymgen-indexeddb"] : []), "encode", "handoff"];
const results = [];
const profiles = [];
let documentBytes = 0;
try {
  const tab = await chromium.context.newPage();
  tab.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  tab.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") console.error(`page ${message.type()}: ${message.text()}`);
  });
  await tab.goto(`${server.origin}/bench.html`);
  await tab.waitForFunction(() => window.ready === true);
  const call = (name, ...args) => tab.evaluate(([n, a]) => window.bench[n](...a), [name, args]);
  const round = (subject, ms) => call("round", subject, ms, IN_FLIGHT);
  // Both OPFS subjects write into the one OPFS Realm's queue.
  const opfsSubjects = new Set(["asymgen-opfs", "asymgen-opfs-pipelined"]);

  console.log(`browser benchmark: WeatherSensor documents, Chromium ${version} (headless), ${os.cpus().length} CPUs, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(`${CELL_MS} ms per subject and cell in ${ROUNDS} interleaved rounds (each round starts with the next subject); docs/s: medians over rounds.`);
  for (const size of SIZES) {
    ({ documentBytes } = await call("open", size, WITH_ASYMGEN_IDB ? ["opfs", "indexeddb"] : ["opfs"]));
    // Every document asymgen was told is durable must be in the OPFS queue at the end of the cell.
    let durableDocuments = 0;
    for (const subject of subjects) {
      const { transactions } = await round(subject, WARM_MS);
      if (opfsSubjects.has(subject)) durableDocuments += transactions * size;
    }
    const rounds = [];
    const split = {};
    const pipelinedSplit = {};
    const floorSplit = {};
    for (let r = 0; r < ROUNDS; r++) {
      const rates = {};
      for (let k = 0; k < subjects.length; k++) {
        const subject = subjects[(r + k) % subjects.length];
        const { transactions, elapsedMs, pageSyncMs, worker: probe, floorCalls } = await round(subject, CELL_MS / ROUNDS);
        rates[subject] = (transactions * size * 1000) / elapsedMs;
        if (opfsSubjects.has(subject)) durableDocuments += transactions * size;
        if (subject === "asymgen-opfs") addSplit(split, { transactions, elapsedMs, pageSyncMs, ...probe });
        if (subject === "asymgen-opfs-pipelined") addSplit(pipelinedSplit, { transactions, elapsedMs, ...probe });
        if (subject === "floor") addSplit(floorSplit, { transactions, ...floorCalls });
      }
      rounds.push(rates);
    }
    if (PROFILE && size === SIZES[SIZES.length - 1]) {
      const writeUntimed = async () => {
        const { transactions } = await round(PROFILED_SUBJECT, 2000);
        durableDocuments += transactions * size;
      };
      profiles.push({ size, where: "page", top: await profilePage(tab, writeUntimed) });
      profiles.push({ size, where: "OPFS queue worker", top: await profileQueueWorker(chromium.browser, writeUntimed) });
    }
    const queued = await call("queuedDocuments");
    if (queued !== durableDocuments) throw new Error(`${size} docs/txn: the OPFS queue holds ${queued} documents, ${durableDocuments} were answered durable`);
    await call("close");
    const rate = (s) => median(rounds.map((round) => round[s]));
    const best = (s) => Math.max(...rounds.map((round) => round[s]));
    const paired = (f) => median(rounds.map(f));
    const result = {
      size,
      rate: Object.fromEntries(subjects.map((s) => [s, rate(s)])),
      best: Object.fromEntries(subjects.map((s) => [s, best(s)])),
      vsFloor: paired((round) => round["asymgen-opfs"] / round.floor),
      pipelinedVsFloor: paired((round) => round["asymgen-opfs-pipelined"] / round.floor),
      vsStrict: paired((round) => round["asymgen-opfs"] / round["idb-strict"]),
      vsRelaxed: paired((round) => round["asymgen-opfs"] / round["idb-relaxed"]),
      idbVsStrict: WITH_ASYMGEN_IDB ? paired((round) => round["asymgen-indexeddb"] / round["idb-strict"]) : NaN,
      // The best ratio to the floor for a path that costs the floor's write + the encoder + the round trip, nothing more.
      ceiling: paired((round) => 1 / round.floor / (1 / round.floor + 1 / round.encode + 1 / round.handoff)),
      queued,
      split,
      pipelinedSplit,
      floorSplit,
    };
    results.push(result);
    console.error(`  ${size} docs/txn done: asymgen ${result.rate["asymgen-opfs"].toFixed(0)} docs/s, floor ${result.rate.floor.toFixed(0)}, ${queued} documents in the queue`);
  }
} finally {
  await chromium.close();
  await server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

const n = (v) => Math.round(v).toLocaleString("en-US");
const x = (v) => `${v.toFixed(2)}×`;
console.log("");
console.log(`| docs/txn | asymgen OPFS | asymgen OPFS, ${IN_FLIGHT} in flight | floor | IndexedDB strict | IndexedDB relaxed |${WITH_ASYMGEN_IDB ? " asymgen IndexedDB |" : ""} vs floor | ${IN_FLIGHT} in flight vs floor | vs IDB strict | vs IDB relaxed |${WITH_ASYMGEN_IDB ? " asymgen IDB vs IDB strict |" : ""} encode only | handoff | ceiling |`);
console.log(`|---:|---:|---:|---:|---:|---:|${WITH_ASYMGEN_IDB ? "---:|" : ""}---:|---:|---:|---:|${WITH_ASYMGEN_IDB ? "---:|" : ""}---:|---:|---:|`);
for (const r of results) {
  const idb = WITH_ASYMGEN_IDB ? ` ${n(r.rate["asymgen-indexeddb"])} |` : "";
  const idbRatio = WITH_ASYMGEN_IDB ? ` ${x(r.idbVsStrict)} |` : "";
  console.log(
    `| ${r.size} | ${n(r.rate["asymgen-opfs"])} | ${n(r.rate["asymgen-opfs-pipelined"])} | ${n(r.rate.floor)} | ${n(r.rate["idb-strict"])} | ${n(r.rate["idb-relaxed"])} |${idb} ` +
      `${x(r.vsFloor)} | ${x(r.pipelinedVsFloor)} | ${x(r.vsStrict)} | ${x(r.vsRelaxed)} |${idbRatio} ${n(r.rate.encode)} | ${n(r.rate.handoff)} | ${x(r.ceiling)} |`,
  );
}
console.log(`durable documents/s (${documentBytes} bytes of BSON each), medians; ratios: asymgen OPFS (serial unless said) against each, medians of per-round ratios.`);
console.log(`asymgen OPFS: each writeAsync awaited before the next; ${IN_FLIGHT} in flight: ${IN_FLIGHT} writeAsync calls kept outstanding, a transaction counted when its writeAsync resolved (durable).`);
console.log("floor: the documents pre-encoded, one sync-handle write of the transaction's bytes at the file's end + flush() per transaction, in the queue's worker.");
console.log("IndexedDB: one readwrite transaction per transaction, a record per document, awaited to complete, in the queue's worker.");
console.log("encode only / handoff (informative): the generated encoder alone on the page; a transaction transferred to the worker and handed back at once.");
console.log("ceiling: the ratio to the floor of a path costing exactly floor + encode + handoff per document (medians of per-round figures).");
console.log(`best docs/s over rounds: ${results.map((r) => `${r.size}: asymgen ${n(r.best["asymgen-opfs"])}, ${IN_FLIGHT} in flight ${n(r.best["asymgen-opfs-pipelined"])}, floor ${n(r.best.floor)}, IDB strict ${n(r.best["idb-strict"])}`).join("; ")}`);
console.log("");
console.log(`Where asymgen's time goes (OPFS serial, per transaction, totals over its rounds; the worker's side timed by bench/browser/queue-worker-probe.ts; frame checksum: ${results[0]?.split.checksum}):`);
console.log("| docs/txn | asymgen ms/txn | page: encode + hand-over | worker: append (a lone writeAsync: and its flush) | of which sync-handle writes | worker: until durable | of which flush() | messages, promise turns | floor ms/txn | floor: write | floor: flush() |");
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of results) {
  const t = r.split;
  const per = (ms) => (ms / t.transactions).toFixed(3);
  // The probe counts what the worker answered during the round; the page counts what it awaited: the same transactions.
  const perWorker = (ms) => (ms / t.transactions).toFixed(3);
  const rest = t.elapsedMs - t.pageSyncMs - t.appendMs - t.durableWaitMs;
  console.log(
    `| ${r.size} | ${per(t.elapsedMs)} | ${per(t.pageSyncMs)} | ${perWorker(t.appendMs)} | ${perWorker(t.writeMs)} (${(t.writes / t.transactions).toFixed(1)} calls) | ` +
      `${perWorker(t.durableWaitMs)} | ${perWorker(t.flushMs)} (${(t.flushes / t.transactions).toFixed(1)} calls) | ${per(rest)} | ${((r.size * 1000) / r.rate.floor).toFixed(3)} | ` +
      `${(r.floorSplit.writeMs / r.floorSplit.transactions).toFixed(3)} | ${(r.floorSplit.flushMs / r.floorSplit.transactions).toFixed(3)} |`,
  );
}
console.log(`With ${IN_FLIGHT} in flight (OPFS, per transaction, the queue worker's probe): the flushes shared, and the worker's busy time against the time per transaction:`);
console.log("| docs/txn | asymgen ms/txn | flush() calls per transaction | worker: append | of which sync-handle writes | of which flush() |");
console.log("|---:|---:|---:|---:|---:|---:|");
for (const r of results) {
  const t = r.pipelinedSplit;
  const per = (ms) => (ms / t.transactions).toFixed(3);
  console.log(`| ${r.size} | ${per(t.elapsedMs)} | ${(t.flushes / t.transactions).toFixed(2)} | ${per(t.appendMs)} | ${per(t.writeMs)} | ${per(t.flushMs)} |`);
}
for (const { size, where, top } of profiles) {
  console.log(`${where} CPU profile, asymgen OPFS${PROFILED_SUBJECT === "asymgen-opfs" ? "" : `, ${IN_FLIGHT} in flight,`} at ${size} docs/txn, self time (share of samples, idle included):`);
  for (const line of top) console.log(`  ${line}`);
}
console.log("");
const floorCells = results.filter((r) => r.size >= 100);
const floorMisses = floorCells.filter((r) => r.vsFloor < 0.8);
const strictMisses = results.filter((r) => r.vsStrict <= 1);
const pipelinedMisses = floorCells.filter((r) => r.pipelinedVsFloor < 0.8);
if (floorCells.length > 0) {
  console.log(`target ≥ 0.8× the floor at 100 and 1000 docs/txn, serial writeAsync: ${floorMisses.length === 0 ? "met" : `NOT met (${floorMisses.map((r) => `${r.size}: ${x(r.vsFloor)}, ceiling ${x(r.ceiling)}`).join("; ")})`}`);
  console.log(`the same with ${IN_FLIGHT} writeAsync in flight: ${pipelinedMisses.length === 0 ? "met" : `NOT met (${pipelinedMisses.map((r) => `${r.size}: ${x(r.pipelinedVsFloor)}`).join("; ")})`}`);
}
console.log(`target ahead of IndexedDB strict at every size: ${strictMisses.length === 0 ? "met" : `NOT met (${strictMisses.map((r) => `${r.size}: ${x(r.vsStrict)}`).join("; ")})`}`);
