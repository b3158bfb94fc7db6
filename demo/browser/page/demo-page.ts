/**
 * The browser demo's page (`npm run demo:browser`): logs in anonymously, opens the browser Realm
 * (its queue in a worker, shared by the origin's tabs), ingests a simulated weather sensor at the
 * slider's rate with `realm.write`, and shows every 250 ms what this tab wrote, what the queue
 * holds and what the server's database holds. "Uploads" pauses and resumes the sync session.
 */
import { App, Credentials, ObjectId, Realm, type StorageKind } from "asymgen";
import { DeviceEvent, WeatherSensor, type WeatherSensorInit } from "../../../examples/weather/models.realm.js";

/** What the demo's page server tells the page (run-browser-demo.ts). */
interface DemoConfig {
  appId: string;
  /** The `asymgen serve` origin: another origin than the page's, allowed by `--cors-origin`. */
  serverUrl: string;
}

const TICK_MS = 100;
const QUEUE_PATH = "weather-station";

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page lacks #${id}`);
  return found as T;
}

function show(id: string, text: string | number): void {
  const target = element(id);
  const value = String(text);
  if (target.textContent !== value) target.textContent = value;
}

function log(line: string): void {
  const pre = element("log");
  pre.textContent = `${new Date().toLocaleTimeString()}  ${line}\n${pre.textContent ?? ""}`.slice(0, 4000);
}

function makeReading(n: number): WeatherSensorInit {
  const at = new Date();
  return {
    id: new ObjectId(),
    deviceId: "browser-station",
    temperatureInFahrenheit: 60 + 10 * Math.sin(n / 50),
    barometricPressureInHg: 29.92 + Math.cos(n / 70) / 10,
    windSpeedInMph: n % 30,
    readings: [{ at, value: 0.5 + (n % 7) / 10 }],
    tags: new Set(["browser-demo"]),
    attributes: { page: location.host },
  };
}

/**
 * What storage "auto" picks here, by the runtime's own rule (open-browser-log-store.ts): OPFS where
 * a dedicated worker has sync access handles, else IndexedDB. Only a worker can tell, so ask one.
 */
async function probeAutoStorage(): Promise<"opfs" | "indexeddb"> {
  const source = `postMessage(typeof FileSystemFileHandle === "function" && typeof FileSystemFileHandle.prototype.createSyncAccessHandle === "function" && typeof navigator.storage?.getDirectory === "function")`;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const probe = new Worker(url);
  try {
    const hasSyncHandles = await new Promise<boolean>((resolve) => {
      probe.onmessage = ({ data }) => resolve(data === true);
      probe.onerror = () => resolve(false);
    });
    return hasSyncHandles ? "opfs" : "indexeddb";
  } finally {
    probe.terminate();
    URL.revokeObjectURL(url);
  }
}

async function main(): Promise<void> {
  const config = (await (await fetch("/demo-config.json")).json()) as DemoConfig;
  const requested = (new URLSearchParams(location.search).get("storage") ?? "auto") as StorageKind;
  // App.open reads the kept users (IndexedDB): a reload or a second tab reuses the user instead of logging in again.
  const app = await App.open({ id: config.appId, baseUrl: config.serverUrl });
  const user = app.currentUser ?? (await app.logIn(Credentials.anonymous()));
  show("user", `${user.id} (anonymous)`);

  let written = 0;
  let writeErrors = 0;
  const realm = await Realm.open({
    schema: [WeatherSensor, DeviceEvent],
    path: QUEUE_PATH,
    storage: requested,
    // Short backoff bounds so uploads resume within a second of the network's return (Realm's defaults: 1 s to 5 min).
    sync: { user, flexible: true, initialBackoffMs: 200, maxBackoffMs: 1_000, onError: (_session, error) => log(`sync error: ${error.message}`) },
    // `write` has returned long before: the refusal is shown here (the counter says how many).
    onWriteError(error) {
      writeErrors++;
      log(`a write was refused by the queue: ${error.message}`);
    },
  });
  const session = realm.syncSession!;
  const actual = requested === "auto" ? `auto → ${await probeAutoStorage()}` : requested;
  show("storage", `${actual} (queue "${realm.path}")`);
  show("persisted", realm.storagePersisted ? "yes: the browser will not evict the queue under storage pressure" : "no: the browser may evict it under storage pressure");
  log(`Realm open; storage ${actual}`);

  // The sensor: a write transaction per tick, with as many readings as the rate has accrued.
  let rate = Number(element<HTMLInputElement>("rate").value);
  let owed = 0;
  let n = 0;
  setInterval(() => {
    owed += (rate * TICK_MS) / 1000;
    const count = Math.floor(owed);
    if (count === 0) return;
    owed -= count;
    // Returns once the transaction is encoded and handed to the worker: not yet durable.
    realm.write(() => {
      for (let i = 0; i < count; i++) realm.ingest(WeatherSensor, makeReading(n++));
    });
    written += count;
  }, TICK_MS);

  element<HTMLInputElement>("rate").addEventListener("input", (event) => {
    rate = Number((event.target as HTMLInputElement).value);
    owed = 0;
    show("rate-value", rate);
  });

  // The button shows the session's state, not a local flag: the session is one per queue, so a
  // pause from another tab shows here too.
  const uploads = element<HTMLButtonElement>("uploads");
  const showUploads = (): void => {
    const on = session.state !== "paused";
    uploads.setAttribute("aria-pressed", String(on));
    show("uploads", `Uploads: ${on ? "on" : "paused"}`);
  };
  uploads.addEventListener("click", () => {
    const on = session.state === "paused";
    log(on ? "uploads on: session resumed" : "uploads paused: session paused, readings keep queueing");
    (on ? session.resume() : session.pause()).then(showUploads, (error: unknown) => log(`${on ? "resume" : "pause"} failed: ${String(error)}`));
  });

  let role = realm.queueRole;
  setInterval(() => {
    if (realm.queueRole !== role) {
      role = realm.queueRole;
      log(`this tab's worker is now the ${role ?? "?"}`);
    }
    show("written", writeErrors === 0 ? written : `${written} (${writeErrors} refused)`);
    show("pending", session.pendingDocuments);
    show("role", role === "owner" ? "owner: it holds the queue and uploads it" : role === "follower" ? "follower: forwards to the owner tab's queue" : "…");
    show("connection", `${session.connectionState}, session ${session.state}`);
    showUploads();
  }, 250);

  // The stored count comes from the database, through the demo's page server.
  const pollStored = async (): Promise<void> => {
    try {
      const answer = (await (await fetch("/stored", { cache: "no-store" })).json()) as { stored: number };
      show("stored", answer.stored);
    } catch {
      show("stored", "? (demo server gone)");
    }
    setTimeout(() => void pollStored(), 500);
  };
  void pollStored();
  document.body.dataset["ready"] = "true";
}

main().catch((error: unknown) => {
  show("role", "failed");
  log(`could not start: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  document.body.dataset["ready"] = "failed";
});
