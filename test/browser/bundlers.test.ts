/**
 * The browser runtime as an app gets it: `asymgen` installed as a package (a copy of the built
 * runtime in the app's node_modules, not a workspace link, so bundlers treat it as a dependency:
 * Vite's dev server pre-bundles it), the app bundled by a real bundler, run in real Chromium. The
 * runtime starts its queue worker as `new Worker(new URL("./queue-worker.js", import.meta.url), {
 * type: "module" })`, a form each bundler must carry over on its own (the worker is a file of the
 * package, not an import): `vite build`, Vite's dev server and a webpack 5 production build. In each
 * the page logs in to `asymgen serve` (another origin: `--cors-origin`), writes three WeatherSensor
 * documents with `writeAsync` (durable in the bundled worker's OPFS queue), uploads them, and the
 * server's SQLite file holds them. Needs `npm run build` (the runtime's dist/, the CLI).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import Database from "better-sqlite3";
import { DeviceEvent, Location, Reading, WeatherSensor } from "../../examples/weather/models.realm.js";
import { ServerProcess } from "../e2e/sync-stack.js";
import { startChromium, type RunningChromium } from "./support/chromium.js";
import { startPageServer, type PageServer } from "./support/page-server.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const driver = path.join(repoRoot, "test/browser/support/bundle-app.mjs");

/** The app: what a user writes after `npm install asymgen` (the generated models beside it). */
const mainJs = `import { App, Credentials, ObjectId, Realm } from "asymgen";
import { DeviceEvent, WeatherSensor } from "./models.realm.js";

try {
  const params = new URLSearchParams(location.search);
  const app = await App.open({ id: "e2e", baseUrl: params.get("server") });
  const user = app.currentUser ?? (await app.logIn(Credentials.anonymous()));
  const realm = await Realm.open({ schema: [WeatherSensor, DeviceEvent], path: "bundled", sync: { user, flexible: true } });
  await realm.writeAsync(() => {
    for (let i = 0; i < 3; i++) {
      realm.ingest(WeatherSensor, {
        id: new ObjectId(),
        deviceId: params.get("device") + "-" + i,
        temperatureInFahrenheit: 60 + i,
        barometricPressureInHg: 29.92,
        windSpeedInMph: i,
        readings: [{ at: new Date(), value: 0.5 }],
        tags: new Set(["bundled"]),
        attributes: { bundler: params.get("device") },
        location: { latitude: 47.6, longitude: -122.3, elevationInFeet: 180 },
      });
    }
  });
  await realm.syncSession.uploadAllLocalChanges(30000);
  document.title = "uploaded from " + realm.storageKind;
} catch (error) {
  document.title = "failed: " + (error && error.name) + ": " + (error && error.message);
}
`;

const indexHtml = `<!doctype html>
<html><head><meta charset="utf-8"><title>loading</title></head>
<body><script type="module" src="/src/main.js"></script></body></html>
`;

let dir: string;
let appDir: string;
let server: ServerProcess | undefined;
let pages: PageServer | undefined;
let browser: RunningChromium | undefined;
let schemaFile: string;
let storeFile: string;
const running: ChildProcess[] = [];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-bundlers-"));
  appDir = path.join(dir, "app");
  const modules = path.join(appDir, "node_modules");
  // The packages as npm installs them: files in node_modules (bson has no dependencies of its own).
  fs.mkdirSync(path.join(modules, "asymgen"), { recursive: true });
  fs.copyFileSync(path.join(repoRoot, "runtime/package.json"), path.join(modules, "asymgen/package.json"));
  fs.cpSync(path.join(repoRoot, "runtime/dist"), path.join(modules, "asymgen/dist"), { recursive: true });
  fs.cpSync(fs.realpathSync(path.join(repoRoot, "node_modules/bson")), path.join(modules, "bson"), { recursive: true });
  fs.mkdirSync(path.join(appDir, "src"));
  fs.writeFileSync(path.join(appDir, "package.json"), JSON.stringify({ name: "bundled-app", private: true, type: "module", dependencies: { asymgen: "*" } }));
  fs.writeFileSync(path.join(appDir, "index.html"), indexHtml);
  fs.writeFileSync(path.join(appDir, "src/main.js"), mainJs);
  // The generated models, compiled (the bundlers here take JavaScript; their TypeScript is not what is tested).
  const models = fs.readFileSync(path.join(repoRoot, "build/examples/weather/models.realm.js"), "utf8");
  fs.writeFileSync(path.join(appDir, "src/models.realm.js"), models.replace(/^\/\/# sourceMappingURL=.*$/m, ""));
  schemaFile = path.join(dir, "schema.json");
  fs.writeFileSync(schemaFile, JSON.stringify([WeatherSensor, Reading, Location, DeviceEvent].map((model) => model.schema)));
  storeFile = path.join(dir, "ingest.sqlite");
});

afterAll(async () => {
  for (const child of running) child.kill("SIGKILL");
  await browser?.close();
  await pages?.close();
  await server?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the bundler step; resolves with its JSON answer ("built", or a dev server's "listening"). */
function runBundler(how: "vite-build" | "vite-serve" | "webpack"): Promise<{ event: string; port?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [driver, how, appDir], { stdio: ["pipe", "pipe", "pipe"] });
    running.push(child);
    let out = "";
    let err = "";
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((text) => text.startsWith("{"));
      if (!line) return;
      const answer = JSON.parse(line) as { event: string; port?: number; message?: string };
      if (answer.event === "failed") reject(new Error(`${how} failed: ${answer.message}`));
      else resolve(answer);
    });
    child.once("exit", (code) => reject(new Error(`${how} exited (${code}) without an answer:\n${out}\n${err}`)));
  });
}

/** Every file under `folder`, by URL path ("/assets/x.js"). */
function filesUnder(folder: string, prefix = ""): [string, string][] {
  return fs.readdirSync(folder, { withFileTypes: true }).flatMap((entry): [string, string][] => {
    const full = path.join(folder, entry.name);
    return entry.isDirectory() ? filesUnder(full, `${prefix}/${entry.name}`) : [[`${prefix}/${entry.name}`, full]];
  });
}

/** Serves the built app in `appDir/dist` from the page server (webpack's has no HTML: `html` is its page). */
function serveDist(html?: string): void {
  for (const [urlPath, file] of filesUnder(path.join(appDir, "dist"))) {
    const contentType = file.endsWith(".html") ? "text/html; charset=utf-8" : file.endsWith(".js") ? "text/javascript; charset=utf-8" : "application/octet-stream";
    pages!.put(urlPath === "/index.html" ? "/" : urlPath, { contentType, body: fs.readFileSync(file) });
  }
  if (html !== undefined) pages!.put("/", { contentType: "text/html; charset=utf-8", body: html });
}

/** Opens the app at `origin` (a fresh profile directory per origin is not needed: each origin has its own storage). */
async function runApp(origin: string, device: string): Promise<string> {
  const page = await browser!.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  try {
    await page.goto(`${origin}/?server=${encodeURIComponent(server!.url)}&device=${device}`);
    await page.waitForFunction(() => document.title !== "loading", null, { timeout: 60_000 });
    const title = await page.title();
    return errors.length > 0 ? `${title} (page errors: ${errors.join("; ")})` : title;
  } finally {
    await page.close();
  }
}

/** The devices whose documents the server's SQLite file holds, sorted. */
function storedDevices(prefix: string): string[] {
  const db = new Database(storeFile, { readonly: true });
  try {
    const rows = db.prepare(`SELECT "deviceId" FROM "WeatherSensor" WHERE "deviceId" LIKE ? ORDER BY "deviceId"`).all(`${prefix}-%`) as { deviceId: string }[];
    return rows.map((row) => row.deviceId);
  } finally {
    db.close();
  }
}

describe("the browser runtime installed as a package, bundled, in real Chromium", () => {
  beforeAll(async () => {
    pages = await startPageServer();
    browser = await startChromium(path.join(dir, "profile"));
  });

  it("vite build: the bundled queue worker makes writes durable and uploads them", async () => {
    await runBundler("vite-build");
    // The worker is a file of its own in the build, not inlined into the page's bundle.
    expect(filesUnder(path.join(appDir, "dist")).some(([urlPath]) => /queue-worker.*\.js$/.test(urlPath))).toBe(true);
    serveDist();
    server = await ServerProcess.spawn({ schemaFile, storeUrl: `sqlite:${storeFile}`, args: ["--cors-origin", pages!.origin] });
    expect(await runApp(pages!.origin, "vite-build")).toBe("uploaded from opfs");
    expect(storedDevices("vite-build")).toEqual(["vite-build-0", "vite-build-1", "vite-build-2"]);
  }, 120_000);

  it("Vite's dev server (asymgen pre-bundled): the same", async () => {
    const { port } = await runBundler("vite-serve");
    const origin = `http://127.0.0.1:${port}`;
    await server!.kill();
    server = await ServerProcess.spawn({ schemaFile, storeUrl: `sqlite:${storeFile}`, args: ["--cors-origin", origin] });
    expect(await runApp(origin, "vite-serve")).toBe("uploaded from opfs");
    // It ran from Vite's pre-bundled copy of the package (the case that loses a package's worker in older Vites).
    expect(fs.existsSync(path.join(appDir, "node_modules/.vite/deps/asymgen.js"))).toBe(true);
    expect(storedDevices("vite-serve")).toEqual(["vite-serve-0", "vite-serve-1", "vite-serve-2"]);
  }, 120_000);

  it("webpack 5 (production): the same", async () => {
    await runBundler("webpack");
    // Another origin than vite build's (a fresh page server), so the queue and the user start anew.
    await pages!.close();
    pages = await startPageServer();
    serveDist(`<!doctype html><html><head><meta charset="utf-8"><title>loading</title></head><body><script src="/main.js"></script></body></html>`);
    await server!.kill();
    server = await ServerProcess.spawn({ schemaFile, storeUrl: `sqlite:${storeFile}`, args: ["--cors-origin", pages.origin] });
    expect(await runApp(pages.origin, "webpack")).toBe("uploaded from opfs");
    expect(storedDevices("webpack")).toEqual(["webpack-0", "webpack-1", "webpack-2"]);
  }, 120_000);
});
