/**
 * The page of `npm run bench:browser` (driven by bench/browser.mjs through `window.bench`): opens
 * the browser Realm on OPFS and on IndexedDB for one cell (a number of documents per
 * transaction) and measures, one timed round at a time, as the driver alternates them:
 *
 * - "asymgen-opfs" / "asymgen-indexeddb": `await realm.writeAsync(() => { for … realm.ingest(WeatherSensor, init) })`,
 *   one after another (the inits built before the clock);
 * - "asymgen-opfs-pipelined": the same on OPFS with `inFlight` writeAsync calls kept outstanding
 *   (a new one started as each resolves = is durable), as an app streaming telemetry would;
 * - "floor", "idb-strict", "idb-relaxed": in the OPFS Realm's queue worker (bench-queue-worker.ts);
 * - informative, to split asymgen's time: "encode" (the generated encoder into a reused writer,
 *   what `ingest` does on the page) and "handoff" (a pre-encoded transaction's bytes transferred
 *   to the queue worker, which hands them back at once: the page ↔ worker round trip alone).
 */
// The browser entry by path, not "asymgen": the package's types are Node's for every condition
// (the bundle is the same: the bundler aliases "asymgen" to this file).
import { Realm } from "../../runtime/browser/index.js";
import { BsonWriter } from "../../runtime/codegen/index.js";
import { WeatherSensor, encodeWeatherSensor, type WeatherSensorInit } from "../../build/examples/weather/models.realm.js";
import { sampleDocument } from "../weather-sample.mjs";
import { BENCH_CONNECT, type BenchReply, type BenchRequest, type RoundResult, type WorkerSubject } from "./bench-protocol.js";

/** Distinct inits the transactions cycle through (a transaction of 1000 takes them all). */
const POOL = 1000;

/** What the page measures itself; the rest runs in the worker. */
type PageSubject = "asymgen-opfs" | "asymgen-opfs-pipelined" | "asymgen-indexeddb" | "encode" | "handoff";
type Subject = PageSubject | WorkerSubject;

// The queue worker the Realm starts, caught as it is made: the baselines run in it.
let lastWorker: Worker | null = null;
const NativeWorker = globalThis.Worker;
globalThis.Worker = class BenchWorker extends NativeWorker {
  constructor(url: string | URL, options?: WorkerOptions) {
    super(url, options);
    lastWorker = this;
  }
};

const inits: WeatherSensorInit[] = Array.from({ length: POOL }, (_, n) => sampleDocument(n));

/** A request/answer channel to the bench side of a queue worker. */
class WorkerBench {
  readonly #port: MessagePort;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 0;

  constructor(worker: Worker) {
    const channel = new MessageChannel();
    this.#port = channel.port1;
    this.#port.onmessage = ({ data }: MessageEvent) => {
      const reply = data as BenchReply;
      const waiter = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if ("error" in reply) waiter?.reject(new Error(`queue worker: ${reply.error}`));
      else waiter?.resolve(reply.result);
    };
    worker.postMessage({ type: BENCH_CONNECT }, [channel.port2]);
  }

  /** Sends `request` (its id filled in) and resolves with the worker's answer. */
  call<T>(request: DistributiveOmit<BenchRequest, "id">, transfer: Transferable[] = []): Promise<T> {
    const id = ++this.#nextId;
    return new Promise<T>((resolve, reject) => {
      this.#waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#port.postMessage({ ...request, id }, transfer);
    });
  }

  close(): void {
    this.#port.close();
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** One cell: both Realms, the worker's baselines, the prepared transactions. */
interface Cell {
  size: number;
  realms: Partial<Record<"opfs" | "indexeddb", Realm>>;
  bench: WorkerBench;
  /** Per prepared transaction, its documents' bytes back to back (what "handoff" sends). */
  encoded: Uint8Array[];
  writer: BsonWriter;
  next: number;
}

let cell: Cell | null = null;
let opened = 0;

async function openRealm(storage: "opfs" | "indexeddb", size: number): Promise<{ realm: Realm; worker: Worker }> {
  lastWorker = null;
  const realm = await Realm.open({
    schema: [WeatherSensor],
    // A fresh queue per cell and run: nothing of an earlier cell is in it.
    path: `bench-${storage}-${size}-${Date.now()}-${++opened}`,
    storage,
    // The query names the storage, so the driver's profiler can tell the two workers apart.
    workerUrl: `/bench-queue-worker.js?${storage}`,
  });
  if (lastWorker === null) throw new Error("Realm.open started no worker the page could see");
  if (realm.queueRole !== "owner") throw new Error(`the ${storage} Realm is not its queue's owner (${realm.queueRole})`);
  return { realm, worker: lastWorker };
}

/**
 * Keeps `inFlight` calls of `transaction` outstanding for about `ms` (a new one starts as one
 * resolves), then waits for those still out: every transaction started, and the time until the
 * last one resolved.
 */
async function timePipelined(ms: number, inFlight: number, transaction: () => Promise<unknown>): Promise<RoundResult> {
  let transactions = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (performance.now() - started < ms) {
      await transaction();
      transactions++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  return { transactions, elapsedMs: performance.now() - started };
}

/** Runs `transaction` one after another for about `ms`: whole transactions and the time they took. */
async function timeAsync(ms: number, transaction: () => Promise<unknown> | void): Promise<RoundResult> {
  let transactions = 0;
  let elapsedMs = 0;
  const started = performance.now();
  while (elapsedMs < ms) {
    await transaction();
    transactions++;
    elapsedMs = performance.now() - started;
  }
  return { transactions, elapsedMs };
}

const bench = {
  /** Opens a cell of `size` documents per transaction; `storages` says which Realms (the OPFS one always: the baselines run in its worker). */
  async open(size: number, storages: ("opfs" | "indexeddb")[]): Promise<{ documentBytes: number }> {
    if (cell !== null) await bench.close();
    const opfs = await openRealm("opfs", size);
    const realms: Cell["realms"] = { opfs: opfs.realm };
    if (storages.includes("indexeddb")) realms.indexeddb = (await openRealm("indexeddb", size)).realm;
    const documents = inits.map((init) => {
      const writer = new BsonWriter(1024);
      encodeWeatherSensor(writer, init);
      return writer.copy();
    });
    const encoded = Array.from({ length: 8 }, (_, k) => {
      const writer = new BsonWriter();
      for (let i = 0; i < size; i++) encodeWeatherSensor(writer, inits[(k * size + i) % POOL]!);
      return writer.copy();
    });
    const workerBench = new WorkerBench(opfs.worker);
    await workerBench.call({ op: "prepare", size, documents });
    cell = { size, realms, bench: workerBench, encoded, writer: new BsonWriter(), next: 0 };
    return { documentBytes: documents[0]!.byteLength };
  },

  /** One timed round of `subject` for about `ms`. */
  async round(subject: Subject, ms: number, inFlight = 1): Promise<RoundResult> {
    const c = cell;
    if (c === null) throw new Error("round before open");
    const size = c.size;
    switch (subject) {
      case "asymgen-opfs":
      case "asymgen-indexeddb": {
        const realm = c.realms[subject === "asymgen-opfs" ? "opfs" : "indexeddb"];
        if (realm === undefined) throw new Error(`${subject} was not opened`);
        const probed = subject === "asymgen-opfs";
        if (probed) await c.bench.call({ op: "probe" });
        let pageSyncMs = 0;
        const result = await timeAsync(ms, () => {
          const base = (c.next++ * size) % POOL;
          const called = performance.now();
          const durable = realm.writeAsync(() => {
            for (let i = 0; i < size; i++) realm.ingest(WeatherSensor, inits[(base + i) % POOL]!);
          });
          pageSyncMs += performance.now() - called;
          return durable;
        });
        return { ...result, pageSyncMs, ...(probed && { worker: await c.bench.call({ op: "probe" }) }) };
      }
      case "asymgen-opfs-pipelined": {
        const realm = c.realms.opfs!;
        await c.bench.call({ op: "probe" });
        const result = await timePipelined(ms, inFlight, () => {
          const base = (c.next++ * size) % POOL;
          return realm.writeAsync(() => {
            for (let i = 0; i < size; i++) realm.ingest(WeatherSensor, inits[(base + i) % POOL]!);
          });
        });
        return { ...result, worker: await c.bench.call({ op: "probe" }) };
      }
      case "encode": {
        const writer = c.writer;
        return timeAsync(ms, () => {
          const base = (c.next++ * size) % POOL;
          writer.truncate(0);
          for (let i = 0; i < size; i++) encodeWeatherSensor(writer, inits[(base + i) % POOL]!);
        });
      }
      case "handoff":
        return timeAsync(ms, async () => {
          // Transferred and handed back with the answer, as the Realm's encoding buffers are.
          const k = c.next++ % c.encoded.length;
          const bytes = c.encoded[k]!;
          c.encoded[k] = await c.bench.call<Uint8Array>({ op: "handoff", bytes }, [bytes.buffer]);
        });
      case "floor":
      case "idb-strict":
      case "idb-relaxed":
        return c.bench.call<RoundResult>({ op: "round", subject, ms });
    }
  },

  /** How many documents the OPFS Realm's queue holds (a check that the rounds really queued). */
  async queuedDocuments(): Promise<number> {
    const realm = cell?.realms.opfs;
    if (realm === undefined) return 0;
    return (await realm.queueStats()).pendingDocuments;
  },

  /** Closes the cell: its baselines' files go; the Realms close (their queues stay in the profile, which the driver deletes). */
  async close(): Promise<void> {
    const c = cell;
    cell = null;
    if (c === null) return;
    await c.bench.call({ op: "finish" });
    c.bench.close();
    for (const realm of Object.values(c.realms)) await realm.close();
  },
};

(window as unknown as { bench: typeof bench; ready: boolean }).bench = bench;
(window as unknown as { ready: boolean }).ready = true;
