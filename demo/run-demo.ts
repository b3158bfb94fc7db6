/**
 * `npm run demo`: the whole pipeline in well under a minute. Checks the generated wrappers of
 * the example models are current and writes schema.json, starts `asymgen serve` on the
 * embedded SQLite store, runs a small fleet of devices that ingest readings while their network
 * drops and comes back, and ends by counting what the store holds against what was ingested.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { generate } from "@asymgen/generator";
import { openStore } from "@asymgen/server/stores";
import type { CanonicalObjectSchema } from "asymgen/schema";
import { App, Credentials, ObjectId, Realm, UUID } from "asymgen";
import { DeviceEvent, WeatherSensor } from "../examples/weather/models.realm.js";
import { NetworkLink } from "./network-link.js";
import { startServerProcess } from "./start-server-process.js";

const APP_ID = "weather-demo";
const DEVICE_COUNT = 5;
/** How long the devices ingest. */
const RUN_MS = 8_000;
/** Each device commits a transaction of 2 readings this often. */
const WRITE_EVERY_MS = 25;
/** Each device goes offline once, for this long, at a staggered time. */
const OFFLINE_MS = 2_500;

interface Device {
  name: string;
  link: NetworkLink;
  realm: Realm;
  ingested: number;
  rejected: number;
}

const started = Date.now();
const root = process.cwd();
const dataDir = path.resolve(root, "asymgen-data", "demo");
const sqlitePath = path.join(dataDir, "ingest.sqlite");
const schemaPath = path.join(dataDir, "schema.json");

function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

function elapsed(): string {
  return `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
}

async function checkGeneratedCode(): Promise<CanonicalObjectSchema[]> {
  const models = path.join(root, "examples", "weather", "models.ts");
  const generated = path.join(root, "examples", "weather", "models.realm.ts");
  say(`1. Generate: ${path.relative(root, models)} → ${path.relative(root, generated)}, schema.json`);
  const check = await generate({ paths: [models], cwd: root, check: true });
  if (!check.ok) {
    const stale = check.stale.map((file) => path.relative(root, file)).join(", ");
    throw new Error(`the generated code is not up to date (${stale || "diagnostics"}): run \`npx asymgen generate examples/weather/models.ts\`, then \`npm run demo\``);
  }
  const run = await generate({ paths: [models], cwd: root, schemaOut: schemaPath });
  if (!run.ok) throw new Error("generating schema.json failed");
  say(`   ${run.models} models, generated code up to date (checked in ${run.timings.total.toFixed(0)} ms); schema: ${path.relative(root, schemaPath)}`);
  const lines = fs.readFileSync(generated, "utf8").split("\n");
  // The header, the class, and the start of its straight-line validating encoder.
  const at = (prefix: string): number => Math.max(0, lines.findIndex((line) => line.startsWith(prefix)));
  const classLine = at("export class WeatherSensor");
  const encoderLine = at("export function encodeWeatherSensor(");
  const excerpt = [
    lines[0] ?? "",
    "…",
    ...lines.slice(classLine - 1, classLine + 3),
    "…",
    ...lines.slice(encoderLine - 1, encoderLine + 17),
    "…",
  ];
  for (const line of excerpt) say(`   │ ${line}`);
  return JSON.parse(fs.readFileSync(schemaPath, "utf8")) as CanonicalObjectSchema[];
}

function makeReading(device: string, n: number): ConstructorParameters<typeof WeatherSensor>[0] {
  const at = new Date();
  return {
    id: new ObjectId(),
    deviceId: device,
    temperatureInFahrenheit: 60 + 10 * Math.sin(n / 50),
    barometricPressureInHg: 29.92 + Math.cos(n / 70) / 10,
    windSpeedInMph: n % 30,
    readings: [
      { at, value: 0.5 + (n % 7) / 10 },
      { at, value: 0.25 + (n % 5) / 10 },
    ],
    tags: new Set(["demo", n % 2 === 0 ? "even" : "odd"]),
    attributes: { firmware: "1.4.2" },
    location: { latitude: 47.6 + n / 1e6, longitude: -122.3, elevationInFeet: 180 },
  };
}

async function openDevice(index: number, serverPort: number, errors: string[]): Promise<Device> {
  const name = `device-${index + 1}`;
  const link = await NetworkLink.open(serverPort);
  const app = new App({ id: APP_ID, baseUrl: link.url, baseFilePath: path.join(dataDir, name, "app") });
  // One device uses email/password, the others log in anonymously: both are Realm's usual shapes.
  let credentials = Credentials.anonymous();
  if (index === 0) {
    const email = "station-1@example.com";
    await app.emailPasswordAuth.registerUser({ email, password: "correct horse battery" });
    credentials = Credentials.emailPassword(email, "correct horse battery");
  }
  const user = await app.logIn(credentials);
  const device: Device = { name, link, realm: undefined as unknown as Realm, ingested: 0, rejected: 0 };
  device.realm = await Realm.open({
    schema: [WeatherSensor, DeviceEvent],
    path: path.join(dataDir, name, "queue"),
    // Short backoff bounds so the demo catches up within seconds (Realm's defaults: 1 s to 5 min).
    sync: {
      user,
      flexible: true,
      initialBackoffMs: 200,
      maxBackoffMs: 1_000,
      requestTimeoutMs: 5_000,
      onError: (_session, error) => {
        device.rejected++;
        errors.push(`${name}: ${error.message}`);
      },
    },
  });
  return device;
}

async function runFleet(devices: Device[]): Promise<void> {
  let n = 0;
  const offlineAt = devices.map((_, i) => 1_000 + i * 1_100);
  const runStart = Date.now();
  let nextReport = runStart + 1_000;
  while (Date.now() - runStart < RUN_MS) {
    const t = Date.now() - runStart;
    for (const [i, device] of devices.entries()) {
      const down = t >= offlineAt[i]! && t < offlineAt[i]! + OFFLINE_MS;
      if (down && device.link.isPlugged) device.link.unplug();
      if (!down && !device.link.isPlugged) device.link.plug();
      // write() returns once the transaction is on disk: from here on the document is counted.
      device.ingested += device.realm.write(() => {
        device.realm.ingest(WeatherSensor, makeReading(device.name, n++));
        device.realm.ingest(WeatherSensor, makeReading(device.name, n++));
        if (n % 40 >= 2) return 2;
        device.realm.ingest(DeviceEvent, { id: new UUID(), deviceId: device.name, kind: "heartbeat" });
        return 3;
      });
    }
    if (Date.now() >= nextReport) {
      report(devices);
      nextReport += 1_000;
    }
    await new Promise((resolve) => setTimeout(resolve, WRITE_EVERY_MS));
  }
}

function report(devices: Device[]): void {
  let ingested = 0;
  let pending = 0;
  for (const device of devices) {
    ingested += device.ingested;
    pending += device.realm.syncSession?.pendingDocuments ?? 0;
  }
  const offline = devices.filter((device) => !device.link.isPlugged).map((device) => device.name);
  say(
    `   ${elapsed()}  ingested ${String(ingested).padStart(5)}  stored ${String(ingested - pending).padStart(5)}  ` +
      `queued on devices ${String(pending).padStart(4)}  ${offline.length > 0 ? `offline: ${offline.join(", ")}` : "all online"}`,
  );
}

async function main(): Promise<number> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  say("asymgen demo: typed ingest-only models → on-device queue → ingest server → SQLite");
  say();
  const schema = await checkGeneratedCode();
  say();
  say(`2. Serve: asymgen serve --schema ${path.relative(root, schemaPath)} --app-id ${APP_ID} --store sqlite:${path.relative(root, sqlitePath)}`);
  const server = await startServerProcess(["--schema", schemaPath, "--app-id", APP_ID, "--store", `sqlite:${sqlitePath}`, "--log-level", "warn"]);
  say(`   listening on ${server.url} (a separate process)`);
  say();
  say(`3. Fleet: ${DEVICE_COUNT} devices ingest for ${RUN_MS / 1000} s; each drops off the network for ${OFFLINE_MS / 1000} s`);
  const errors: string[] = [];
  const devices: Device[] = [];
  for (let i = 0; i < DEVICE_COUNT; i++) devices.push(await openDevice(i, server.port, errors));
  await runFleet(devices);
  for (const device of devices) device.link.plug();
  say(`   ${elapsed()}  writing stopped, every device back online: uploading what is queued`);
  await Promise.all(
    devices.map(async (device) => {
      device.realm.syncSession?.reconnect();
      await device.realm.syncSession?.uploadAllLocalChanges(30_000);
    }),
  );
  report(devices);
  for (const device of devices) {
    device.realm.close();
    await device.link.close();
  }
  await server.stop();
  say();
  say("4. Count");
  // Counted from the SQLite file itself, not from what the clients were told.
  const store = await openStore(`sqlite:${sqlitePath}`);
  await store.prepare(schema);
  const rows = await store.countRows();
  await store.close();
  const ingested = devices.reduce((sum, device) => sum + device.ingested, 0);
  const tables = schema.filter((model) => model.asymmetric).map((model) => model.name);
  const stored = tables.reduce((sum, table) => sum + (rows[table] ?? 0), 0);
  say(`   ingested on devices: ${ingested}`);
  say(`   held by the store:   ${stored}  (${tables.map((table) => `${table} ${rows[table] ?? 0}`).join(", ")})`);
  for (const error of errors.slice(0, 5)) say(`   error: ${error}`);
  say();
  say(`The data: ${sqlitePath}`);
  say(`  one stored row: ${readOneStoredRow(sqlitePath, "WeatherSensor")}`);
  say(`  ${averagePerDeviceSql}`);
  for (const line of averagePerDevice(sqlitePath)) say(`    ${line}`);
  say(`Device queues (empty once uploaded): ${path.join(dataDir, "device-*", "queue")}`);
  if (stored !== ingested || errors.length > 0) {
    say(`FAILED: the store holds ${stored} documents, the devices ingested ${ingested} (${errors.length} errors)`);
    return 1;
  }
  say(`OK: every ingested document is stored exactly once (${elapsed().trim()})`);
  return 0;
}

/** The first stored row of `table` as a SELECT shows it (NULL columns left out, text in SQL quotes), shortened for the terminal. */
function readOneStoredRow(file: string, table: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare(`SELECT * FROM "${table}" LIMIT 1`).get() as Record<string, unknown> | undefined;
    if (row === undefined) return "(none)";
    const text = Object.entries(row)
      .filter(([, value]) => value !== null)
      .map(([column, value]) => `${column}=${Buffer.isBuffer(value) ? `<${value.length} bytes>` : typeof value === "string" ? `'${value}'` : String(value)}`)
      .join(" ");
    return text.length > 400 ? `${text.slice(0, 400)}…` : text;
  } finally {
    db.close();
  }
}

/** An analyst's query on the typed table (README, "Querying the data"). */
const averagePerDeviceSql =
  'SELECT "deviceId", round(avg("temperatureInFahrenheit"), 1) AS avg_f, count(*) AS n FROM "WeatherSensor" GROUP BY 1 LIMIT 3';

function averagePerDevice(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare(averagePerDeviceSql).all() as { deviceId: string; avg_f: number; n: number }[];
    return rows.map((row) => `${row.deviceId}  avg ${row.avg_f} °F over ${row.n} readings`);
  } finally {
    db.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
