/**
 * Test support for the bundler plugin: a small app project in a temp folder (models, a tsconfig,
 * an entry that imports a generated file, `asymgen` linked into node_modules as a user has it),
 * a bundler running the plugin from the built generator/dist in a child process, and the CLI's outputs for the same project to
 * compare against byte for byte.
 */
import { afterEach } from "@jest/globals";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import WebSocket from "ws";
import { BROKEN_MODEL, EVENT_MODEL, PLACE_MODEL, SENSOR_MODEL, createWorkspace, repoRoot, type Workspace } from "./create-workspace.js";

export { BROKEN_MODEL, EVENT_MODEL };

/** The fixture's files: three models (a cross-file link), a tsconfig over them, an app entry. */
export function createBundlerFixture(overrides: Record<string, string> = {}): Workspace {
  return createWorkspace(
    {
      "package.json": JSON.stringify({ name: "bundler-fixture", private: true, type: "module" }),
      "tsconfig.json": JSON.stringify({
        compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", strict: true, skipLibCheck: true, noEmit: true, types: [] },
        include: ["models/**/*.ts"],
      }),
      "models/sensor.ts": SENSOR_MODEL,
      "models/location.ts": PLACE_MODEL,
      "models/event.ts": EVENT_MODEL,
      // The app imports a generated file only: the model classes are for the generator.
      "src/main.ts": `import { Event } from "../models/event.realm.js";\nconsole.log(Event.schema.name);\n`,
      "src/plain.js": `console.log("no models here");\n`,
      "index.html": `<!doctype html><html><body><script type="module" src="/src/main.ts"></script></body></html>\n`,
      ...overrides,
    },
    { linkPackage: true },
  );
}

/** What the current test made: fixtures to remove and drivers and sockets to stop (see cleanUpAfterEachTest). */
const made: Workspace[] = [];
const toStop: (() => Promise<void> | void)[] = [];

/** Registers, in a test file, an afterEach that stops the drivers and HMR sockets its test started and removes its fixtures. */
export function cleanUpAfterEachTest(): void {
  afterEach(async () => {
    for (const stop of toStop.splice(0).reverse()) await stop();
    for (const workspace of made.splice(0)) workspace.cleanup();
  });
}

/** A fixture project (createBundlerFixture) removed after the test. */
export function fixture(overrides: Record<string, string> = {}): Workspace {
  const workspace = createBundlerFixture(overrides);
  made.push(workspace);
  return workspace;
}

/** A message of Vite's HMR websocket (the fields the tests read). */
export interface HmrMessage {
  type: string;
  err?: { message: string; id?: string; loc?: { line: number; column: number }; plugin?: string; stack?: string };
  updates?: { path: string }[];
}

/** An HMR client on a Vite dev server's websocket, connected as the browser's Vite client connects; closed after the test. */
export async function connectHmr(port: number): Promise<{ messages: HmrMessage[] }> {
  const messages: HmrMessage[] = [];
  const socket = new WebSocket(`ws://127.0.0.1:${port}/`, "vite-hmr");
  toStop.push(() => socket.terminate());
  socket.on("message", (data: Buffer) => messages.push(JSON.parse(data.toString()) as HmrMessage));
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  await waitUntil(() => messages.some((message) => message.type === "connected"), () => JSON.stringify(messages));
  return { messages };
}

/** One line the driver printed (support/bundler-driver.mjs says which events there are). */
export interface DriverEvent {
  event: string;
  [key: string]: unknown;
}

/** A bundler running with the plugin in a child process. */
export interface Driver {
  /** Every event so far, in order. */
  events: DriverEvent[];
  /** The generator runs so far. */
  runs(): DriverEvent[];
  /** Writes a line to the driver's stdin (esbuild context: "rebuild"). */
  send(line: string): void;
  /** Waits for an event after the first `from` events that satisfies `match`. */
  waitFor(match: (event: DriverEvent) => boolean, from?: number): Promise<DriverEvent>;
  /** Closes stdin (the driver ends its server or watch) and waits for the exit; calling it again is harmless. */
  stop(): Promise<void>;
}

const driverScript = path.join(repoRoot, "test/generator/support/bundler-driver.mjs");

/**
 * Starts `bundler` in `mode` on the project in `dir` (the plugin comes from the built dist: `npm run build` first).
 * `entry` (Rollup, webpack): "plain" bundles src/plain.js, which imports nothing; "app" bundles src/main.ts, which imports a generated file.
 * `webpackMode`: webpack's `mode` (default "production"; "development" adds its memory cache).
 */
export function startDriver(
  bundler: "vite" | "rollup" | "esbuild" | "webpack",
  mode: "build" | "serve" | "context" | "watch",
  dir: string,
  entry: "plain" | "app" = "plain",
  webpackMode: "production" | "development" = "production",
): Driver {
  if (!existsSync(path.join(repoRoot, "generator/dist/generator/bundler", `${bundler}.js`))) throw new Error("generator/dist is missing the plugin: run `npm run build` before these tests");
  const child: ChildProcess = spawn(process.execPath, [driverScript, bundler, mode, dir, entry], { cwd: dir, env: { ...process.env, NO_COLOR: "1", DRIVER_WEBPACK_MODE: webpackMode }, stdio: ["pipe", "pipe", "pipe"] });
  const events: DriverEvent[] = [];
  let stderr = "";
  let buffered = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let newline: number;
    while ((newline = buffered.indexOf("\n")) !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.startsWith("{")) events.push(JSON.parse(line) as DriverEvent);
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const driver: Driver = {
    events,
    runs: () => events.filter((event) => event.event === "run"),
    send: (line) => child.stdin!.write(`${line}\n`),
    waitFor: async (match, from = 0) => {
      let found: DriverEvent | undefined;
      await waitUntil(
        () => (found = events.slice(from).find(match)) !== undefined || child.exitCode !== null,
        () => `events: ${JSON.stringify(events)}\nstderr: ${stderr}`,
        45_000,
      );
      if (found === undefined) throw new Error(`the driver exited (${child.exitCode}) first: ${JSON.stringify(events)}\nstderr: ${stderr}`);
      return found;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      // Nothing of the child may keep the Jest worker alive after the test.
      for (const stream of [child.stdin, child.stdout, child.stderr]) stream?.destroy();
    },
  };
  // Stopped after the test too, if it failed first (stopping twice is harmless).
  toStop.push(() => driver.stop());
  return driver;
}

/** Runs one build to its end: the generator runs and the final "done" or "failed" event. */
export async function runBuild(bundler: "vite" | "rollup" | "esbuild" | "webpack", dir: string): Promise<{ runs: DriverEvent[]; end: DriverEvent }> {
  const driver = startDriver(bundler, "build", dir);
  const end = await driver.waitFor((event) => event.event === "done" || event.event === "failed");
  await driver.stop();
  return { runs: driver.runs(), end };
}

/** Runs `asymgen generate --schema-out schema.json` in `dir` (the CLI as users run it); returns its exit code and stderr. */
export function runCli(dir: string): { status: number | null; stderr: string } {
  const cli = path.join(repoRoot, "generator/dist/generator/cli.js");
  const result = spawnSync(process.execPath, [cli, "generate", "--schema-out", "schema.json"], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { status: result.status, stderr: result.stderr };
}

/** Every generated file (X.realm.ts, schema.json) of a project, by relative path, with its bytes. */
export function readOutputs(dir: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && entry.name !== "dist") walk(full);
      } else if (entry.name.endsWith(".realm.ts") || entry.name === "schema.json") outputs[path.relative(dir, full)] = readFileSync(full, "utf8");
    }
  };
  walk(dir);
  return outputs;
}

/** Modification times of the generated files: unchanged ones prove a run wrote nothing. */
export function readOutputTimes(dir: string): Record<string, number> {
  return Object.fromEntries(Object.keys(readOutputs(dir)).map((file) => [file, statSync(path.join(dir, file)).mtimeMs]));
}

/** Polls `condition` every 20 ms; fails with `what()` after `ms`. */
export async function waitUntil(condition: () => boolean, what: () => string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
