/**
 * The client is SIGKILLed mid-upload at random moments (seeded; the seed is printed, and
 * ASYMGEN_FAULT_SEED replays a run) and restarted, eight times, while it ingests and uploads.
 * A last run drains the queue. Every transaction a child reported as committed is stored, the
 * store holds exactly as many documents as the queue ever committed (no duplicates, no
 * strays), and the server's high-water mark equals the queue's last sequence.
 */
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import type { IngestServer } from "../../server/create-server.js";
import { createSeededRandom } from "../support/seeded-random.mjs";
import { makeTempDir, numberOfIdKey, openStoreForReading, removeTempDir, repoRoot, startServer, syncTable } from "../e2e/sync-stack.js";

const child = path.join(repoRoot, "test", "fault", "children", "sync-client.mjs");
let dir: string;
let server: IngestServer;
let storeUrl: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = makeTempDir("fault-client");
  storeUrl = `sqlite:${path.join(dir, "ingest.sqlite")}`;
  server = await startServer(storeUrl);
});

afterAll(async () => {
  // A failed run must not leave a streaming child behind.
  for (const proc of children) if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  await server?.close();
  removeTempDir(dir);
});

interface ChildRun {
  lines: string[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
  waitFor(predicate: (lines: string[]) => boolean, timeoutMs: number): Promise<void>;
}

function runChild(mode: "stream" | "drain", run: number): ChildRun {
  const proc = spawn(process.execPath, [child, mode, path.join(dir, "device"), server.url, String(run)], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  const lines: string[] = [];
  let partial = "";
  let stderr = "";
  proc.stdout.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const parts = text.split("\n");
    // A line cut by the kill has no newline: it was never fully reported, so it does not count.
    partial = parts.pop() ?? "";
    lines.push(...parts);
  });
  proc.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    lines,
    exit,
    kill: () => proc.kill("SIGKILL"),
    async waitFor(predicate, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(lines)) {
        if (proc.exitCode !== null) throw new Error(`child exited with ${proc.exitCode}: ${stderr}`);
        if (Date.now() > deadline) throw new Error(`child timed out; stderr: ${stderr}; stdout: ${lines.slice(-5).join(" | ")}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
}

test("the client SIGKILLed and restarted mid-upload eight times: every committed document stored exactly once", async () => {
  const seed = Number(process.env["ASYMGEN_FAULT_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`sync client crash: seed ${seed} (replay with ASYMGEN_FAULT_SEED=${seed})`);
  const random = createSeededRandom(seed);
  const reported = new Set<number>();
  const errors: string[] = [];
  for (let run = 1; run <= 8; run++) {
    const proc = runChild("stream", run);
    await proc.waitFor((lines) => lines.some((line) => line.startsWith("C ")), 20_000);
    await new Promise((resolve) => setTimeout(resolve, 50 + random() * 400));
    proc.kill();
    const { signal } = await proc.exit;
    expect(signal).toBe("SIGKILL");
    for (const line of proc.lines) {
      if (line.startsWith("E ")) errors.push(line);
      const match = /^C (\d+) (\d+)$/.exec(line);
      if (match) for (let id = Number(match[1]); id <= Number(match[2]); id++) reported.add(id);
    }
  }
  const drain = runChild("drain", 0);
  await drain.waitFor((lines) => lines.some((line) => line.startsWith("D ")), 60_000);
  expect((await drain.exit).code).toBe(0);
  errors.push(...drain.lines.filter((line) => line.startsWith("E ")));
  const committed = Number(drain.lines.find((line) => line.startsWith("D "))!.slice(2));

  const store = await openStoreForReading(storeUrl);
  try {
    const docs = await store.readDocuments(syncTable);
    const ids = docs.map((doc) => numberOfIdKey(doc.idKey));
    const stored = new Set(ids);
    // Every reported transaction is stored; unreported ones (killed between commit and print) may be too.
    expect([...reported].filter((id) => !stored.has(id))).toEqual([]);
    // Exactly what the queue committed, once each: one row per committed sequence number
    // 1..committed (the _id is the store's primary key, so a doubled document would have to
    // show up as an extra row with another seq: the row count and the seq set catch it).
    expect(ids.length).toBe(committed);
    expect(new Set(docs.map((doc) => Number(doc.seq)))).toEqual(new Set(Array.from({ length: committed }, (_, i) => i + 1)));
    expect((await store.readQueue(docs[0]!.queueId))?.highSeq).toBe(BigInt(committed));
    console.log(`sync client crash: seed ${seed}: ${reported.size} documents reported by 8 killed runs, ${committed} committed, ${ids.length} stored`);
  } finally {
    await store.close();
  }
  expect(errors).toEqual([]);
}, 180_000);
