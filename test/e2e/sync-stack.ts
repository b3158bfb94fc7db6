/**
 * The real stack for end-to-end and fault tests: an ingest server (in-process, or a child
 * process that can be SIGKILLed) over a real store, and devices (App + Realm + sync session)
 * with their own queue directories. Also reads the store back to prove exactly-once.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { App, Credentials, Realm, type SyncConfiguration, type User } from "asymgen";
import { createIngestServer, type IngestServer, type IngestServerOptions } from "../../server/create-server.js";
import { openStore } from "../../server/stores/open-store.js";
import type { IngestStore } from "../../server/stores/store.js";
import type { CanonicalObjectSchema } from "../../runtime/schema/canonical-schema.js";
import { ObjectId } from "bson";
import { DeviceEvent, Location, Reading, WeatherSensor, type WeatherSensorInit } from "../../examples/weather/models.realm.js";
import { sharedTestSecret } from "../support/ingest-server-fixtures.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The models the sync tests ingest: the example weather models, as generated. */
export const syncModels = [WeatherSensor, Reading, Location, DeviceEvent] as const;
/** Their canonical schemas: the server's schema.json. */
export const syncSchema: CanonicalObjectSchema[] = syncModels.map((model) => model.schema);
/** The table the documents land in. */
export const syncTable = WeatherSensor.schema.name;

/** The ObjectId of document `n`: `n` in hex, so the store's ids prove which documents arrived. */
export function objectIdOf(n: number): ObjectId {
  return new ObjectId(n.toString(16).padStart(24, "0"));
}

/** Document number `n` (a WeatherSensor reading whose `_id` encodes `n`). */
export function makeDocument(n: number, deviceId = "device-1"): WeatherSensorInit {
  const at = new Date(1_700_000_000_000 + n * 1000);
  return {
    id: objectIdOf(n),
    deviceId,
    temperatureInFahrenheit: 60 + (n % 40) / 4,
    barometricPressureInHg: 29.92,
    windSpeedInMph: n % 50,
    readings: [
      { at, value: 0.5 },
      { at, value: 0.75 },
    ],
    tags: new Set(["e2e"]),
    attributes: { firmware: "1.4.2" },
    location: { latitude: 47.6, longitude: -122.3, elevationInFeet: 180 },
  };
}

/** The store's key (canonical Extended JSON) of document `n`. */
export function idKeyOf(n: number): string {
  return JSON.stringify({ $oid: objectIdOf(n).toHexString() });
}

/** The `n` of a stored document's key. */
export function numberOfIdKey(idKey: string): number {
  return parseInt((JSON.parse(idKey) as { $oid: string }).$oid, 16);
}

/** A temporary directory, removed by `removeTempDir`. */
export function makeTempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `asymgen-${label}-`));
}

/** Removes a directory made by `makeTempDir`. */
export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The sync options tests use: retries in milliseconds, not Realm's seconds to minutes. */
export const fastSync: Partial<SyncConfiguration> = { initialBackoffMs: 20, maxBackoffMs: 300, requestTimeoutMs: 5_000 };

/** Starts the in-process server on `storeUrl`. */
export async function startServer(storeUrl: string, overrides: Partial<IngestServerOptions> = {}): Promise<IngestServer> {
  return createIngestServer({ schema: syncSchema, appId: "e2e", store: storeUrl, quiet: true, fault: null, ...overrides });
}

/** One simulated device. */
export interface Device {
  app: App;
  user: User;
  realm: Realm;
  errors: Error[];
  dir: string;
}

/** Opens a device under `dir` against `baseUrl`, logging in (or resuming the persisted user). */
export async function openDevice(
  baseUrl: string,
  dir: string,
  options: { credentials?: Credentials; sync?: Partial<SyncConfiguration>; appId?: string } = {},
): Promise<Device> {
  const app = new App({ id: options.appId ?? "e2e", baseUrl, baseFilePath: path.join(dir, "app") });
  const user = app.currentUser ?? (await app.logIn(options.credentials ?? Credentials.anonymous()));
  const errors: Error[] = [];
  const realm = await Realm.open({
    schema: [...syncModels],
    path: path.join(dir, "queue"),
    durability: "os",
    sync: { user, flexible: true, onError: (_session, error) => errors.push(error), ...fastSync, ...options.sync },
  });
  openRealms.add(realm);
  return { app, user, realm, errors, dir };
}

const openRealms = new Set<Realm>();

/**
 * Closes every device `openDevice` opened and not yet closed: a failed test must not leave a
 * session retrying in the background (jest would never exit). Call it in `afterEach`/`afterAll`.
 */
export function closeAllDevices(): void {
  for (const realm of openRealms) {
    if (!realm.isClosed) realm.close();
  }
  openRealms.clear();
}

/**
 * `uploadAllLocalChanges` with a diagnosis on failure: the session's state, connection, pending
 * count and every error it reported, so a timeout says why.
 */
export async function uploadAll(device: Device, timeoutMs: number): Promise<void> {
  const session = device.realm.syncSession;
  if (session === null) throw new Error("the device has no sync session");
  try {
    await session.uploadAllLocalChanges(timeoutMs);
  } catch (error) {
    const errors = device.errors.map((e) => `${e.name}: ${e.message}`).join("; ") || "none";
    throw new Error(
      `${(error as Error).message}; session ${session.state}/${session.connectionState}, ` +
        `${session.pendingDocuments} pending, user ${device.user.state}; errors: ${errors}`,
    );
  }
}

/** Ingests documents `from..to` (inclusive) in transactions of `perTransaction`. */
export function ingestRange(realm: Realm, from: number, to: number, perTransaction = 50, deviceId = "device-1"): void {
  for (let start = from; start <= to; start += perTransaction) {
    realm.write(() => {
      for (let n = start; n <= Math.min(to, start + perTransaction - 1); n++) realm.ingest(WeatherSensor, makeDocument(n, deviceId));
    });
  }
}

/** The `_id` keys the store holds in `table`, as a sorted array (duplicates would show twice). */
export async function readStoredIdKeys(storeUrl: string, table = syncTable): Promise<string[]> {
  const store = await openStoreForReading(storeUrl);
  try {
    return (await store.readDocuments(table)).map((doc) => doc.idKey).sort();
  } finally {
    await store.close();
  }
}

/** Opens a store another process or server writes, knowing the sync models' tables. */
export async function openStoreForReading(storeUrl: string): Promise<IngestStore> {
  const store = await openStore(storeUrl);
  // The whole schema: the typed stores decode nested values with the embedded models.
  await store.prepare(syncSchema);
  return store;
}

/** The sorted keys of documents `from..to`. */
export function expectedIdKeys(from: number, to: number): string[] {
  const keys: string[] = [];
  for (let n = from; n <= to; n++) keys.push(idKeyOf(n));
  return keys.sort();
}

/** A server running as a child process (so it can be SIGKILLed): the built CLI's `serve`. */
export class ServerProcess {
  private constructor(
    readonly child: ChildProcess,
    private output: string[],
    /** The port it listens on, once known. */
    public port: number,
  ) {}

  /** The server's base URL. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Everything the process printed so far. */
  get log(): string {
    return this.output.join("");
  }

  /**
   * Spawns `node generator/dist/generator/cli.js serve` on a free port (read back from its "listening"
   * line) and resolves once it listens. `env` adds variables (the crash fault:
   * ASYMGEN_FAULT_CRASH, ASYMGEN_FAULT_CRASH_AFTER). Put a `TcpProxy` in front for a stable
   * address across restarts: re-binding a fixed port races with other tests' ephemeral ports.
   */
  static async spawn(options: { schemaFile: string; storeUrl: string; env?: Record<string, string>; args?: string[] }): Promise<ServerProcess> {
    const cli = path.join(repoRoot, "generator", "dist", "generator", "cli.js");
    const args = [cli, "serve", "--schema", options.schemaFile, "--app-id", "e2e", "--host", "127.0.0.1", "--port", "0", "--store", options.storeUrl, ...(options.args ?? [])];
    // One secret for every server of a test, as a deployment gives all its servers (and no key
    // file written into the working folder).
    const env = { ...process.env, ASYMGEN_SECRET: sharedTestSecret, ...options.env };
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const output: string[] = [];
    child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    const server = new ServerProcess(child, output, 0);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      // The "listening" line is the signal: a crash-fault server may die on its first batches
      // (clients wait with a backlog) before anything else could be checked.
      const listening = /listening on https?:\/\/[^:\s]+:(\d+)/.exec(server.log);
      if (listening) {
        server.port = Number(listening[1]);
        return server;
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the server exited (${child.exitCode ?? child.signalCode}) before listening:\n${server.log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGKILL");
    throw new Error(`the server did not come up:\n${server.log}`);
  }

  /** Resolves when the process has exited (by itself or killed). */
  exited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.child.once("exit", () => resolve()));
  }

  /** SIGKILLs the process and waits for it to be gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
    await this.exited();
  }
}

/** Writes the sync schema (or a variant) to `file` for a spawned server. */
export function writeSchemaFile(file: string, schema: CanonicalObjectSchema[] = syncSchema): string {
  fs.writeFileSync(file, JSON.stringify(schema, null, 2));
  return file;
}
