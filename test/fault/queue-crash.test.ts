/**
 * Crash safety of the queue with real processes: a child ingests in a loop and is SIGKILLed at
 * random (seeded) moments; after every kill the queue must hold every transaction the child
 * reported as committed, in order, exactly once, and no partial transaction.
 * Needs `npm run build` (the child runs the built runtime).
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { deserialize } from "bson";
import { DurableQueue } from "../../runtime/queue/durable-queue.js";
import { openNodeLogStore } from "../../runtime/node/node-log-store.js";
import { createSeededRandom as createRandom } from "../support/seeded-random.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, "children", "queue-crash-child.mjs");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-crash-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const seed = Number(process.env.ASYMGEN_SEED ?? Date.now() % 1_000_000);
const kills = 24;


interface Reported {
  lastSeq: number;
  key: string;
  size: number;
}

/** Runs the child until it has reported at least once, waits `delayMs`, SIGKILLs it, collects its reports. */
async function runAndKill(run: number, durability: string, delayMs: number): Promise<Reported[]> {
  const proc = spawn(process.execPath, [child, dir, durability, String(seed + run), String(run), String(64 * 1024)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => proc.on("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (/\n\d+ /.test(out)) resolve();
    });
    proc.on("exit", (code) => reject(new Error(`child exited early (${code}): ${err}`)));
  });
  await new Promise((r) => setTimeout(r, delayMs));
  proc.kill("SIGKILL");
  await exited; // reaped: the lock's owner is gone
  return out
    .split("\n")
    .filter((line) => /^\d+ \S+ \d+$/.test(line))
    .map((line) => {
      const [lastSeq, key, size] = line.split(" ");
      return { lastSeq: Number(lastSeq), key: key!, size: Number(size) };
    });
}

describe("queue under SIGKILL", () => {
  it(`keeps every reported transaction, in order, exactly once, never a partial one (seed ${seed})`, async () => {
    console.log(`queue crash test seed: ${seed} (replay with ASYMGEN_SEED=${seed})`);
    const random = createRandom(seed);
    const reported: Reported[] = [];
    for (let run = 0; run < kills; run++) {
      const durability = run % 2 === 0 ? "full" : "os";
      const delay = Math.floor(random() * 80);
      reported.push(...(await runAndKill(run, durability, delay)));

      const queue = DurableQueue.open({ store: openNodeLogStore(dir) });
      try {
        const docs = queue.readBatch(0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
        // Contiguous sequence numbers from 1: in order, no gap, no duplicate. (Plain checks:
        // an expect() per document would dominate the run time.)
        const fail = (message: string): never => {
          throw new Error(`seed ${seed}, after kill ${run}: ${message}`);
        };
        docs.forEach((d, i) => d.seq === i + 1 || fail(`document ${i} has seq ${d.seq}`));
        if (queue.lastCommittedSeq() !== docs.length) fail(`lastCommittedSeq ${queue.lastCommittedSeq()} but ${docs.length} documents`);
        // Group into transactions by key: each is whole (its size), contiguous, and appears once.
        const seen = new Map<string, { first: number; count: number; size: number }>();
        let previousKey = "";
        for (const d of docs) {
          const doc = deserialize(d.bson) as { deviceId: string; value: number };
          const entry = seen.get(doc.deviceId);
          if (entry === undefined) {
            seen.set(doc.deviceId, { first: d.seq, count: 1, size: doc.value });
          } else {
            if (previousKey !== doc.deviceId) fail(`transaction ${doc.deviceId} is not contiguous (seq ${d.seq})`);
            entry.count++;
          }
          previousKey = doc.deviceId;
        }
        for (const [key, entry] of seen) {
          if (entry.count !== entry.size) fail(`transaction ${key} is partial: ${entry.count} of ${entry.size}`);
        }
        // Every reported transaction is there, at the sequence numbers it was given.
        for (const r of reported) {
          const entry = seen.get(r.key);
          if (entry === undefined) return fail(`reported transaction ${r.key} (last seq ${r.lastSeq}) is missing`);
          if (entry.first + entry.size - 1 !== r.lastSeq || entry.size !== r.size) fail(`transaction ${r.key} is at the wrong place`);
        }
      } finally {
        queue.close();
      }
    }
    expect(reported.length).toBeGreaterThan(kills);
  });
});
