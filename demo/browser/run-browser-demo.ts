/**
 * `npm run demo:browser`: the runtime in a browser page. Writes the weather example's schema.json
 * (from its generated classes), starts `asymgen serve` on the embedded SQLite store allowing the
 * page's origin (`--cors-origin`),
 * bundles the page (demo/browser/page/) with esbuild as an app would ("asymgen" resolved through
 * the package's "browser" condition) and the queue worker beside it, serves both from
 * http://127.0.0.1:<port>, prints the URL and runs until Ctrl-C. `--port N` picks the page's port
 * (default: a free one, and a fresh database; a fixed port keeps the page's origin, so its queue
 * and user, and the database across runs); `--data-dir DIR` where schema.json and the SQLite file
 * go (default asymgen-data/demo-browser/).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { CanonicalObjectSchema } from "asymgen/schema";
import * as weatherModels from "../../examples/weather/models.realm.js";
import { startServerProcess } from "../start-server-process.js";
import { startDemoPageServer, type DemoFile } from "./demo-page-server.js";

const APP_ID = "weather-browser-demo";
// Compiled to build/demo/browser/: the repository is three levels up.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const pageDir = path.join(root, "demo", "browser", "page");

/** `file` relative to the repository when inside it (shorter to read), else absolute. */
function shown(file: string): string {
  const relative = path.relative(root, file);
  return relative.startsWith("..") ? file : relative;
}

function say(line = ""): void {
  process.stdout.write(`${line}\n`);
}

// The output is only for the reader: a closed terminal or pipe (EPIPE) must not end the demo
// before it has stopped the `asymgen serve` it started.
for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);

/** The options: `--port N` (0, a free port, when absent) and `--data-dir DIR`; anything else is refused. */
function readOptions(args: readonly string[]): { port: number; dataDir: string } {
  let port = 0;
  let dataDir = path.join(root, "asymgen-data", "demo-browser");
  for (let i = 0; i < args.length; i += 2) {
    const [name, value] = [args[i], args[i + 1]];
    if (name === "--port") {
      port = Number(value);
      if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`--port takes a port number (1–65535), not ${JSON.stringify(value ?? "")}`);
    } else if (name === "--data-dir" && value !== undefined && value !== "") {
      dataDir = path.resolve(value);
    } else {
      throw new Error(`unknown option ${JSON.stringify(name)}: the options are --port N and --data-dir DIR`);
    }
  }
  return { port, dataDir };
}

/** `entry` bundled into one browser ES module, "asymgen" resolved as a bundler does for a page. */
async function bundleForBrowser(entry: string): Promise<DemoFile> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    // esbuild's platform "browser" already prefers the "browser" condition; named for the reader.
    conditions: ["browser"],
    write: false,
    sourcemap: "inline",
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  return { contentType: "text/javascript; charset=utf-8", body: output.text };
}

async function main(): Promise<void> {
  const { port, dataDir } = readOptions(process.argv.slice(2));
  const schemaPath = path.join(dataDir, "schema.json");
  const sqlitePath = path.join(dataDir, "ingest.sqlite");
  fs.mkdirSync(dataDir, { recursive: true });
  // On a free port the page is a new origin, with a new queue and user: start a fresh database too
  // (only the demo's own files are removed, never the directory). On a fixed port the page keeps
  // its user and queue, so the database keeps them too: a fresh one would not know the user.
  if (port === 0) for (const file of [schemaPath, sqlitePath, `${sqlitePath}-wal`, `${sqlitePath}-shm`]) fs.rmSync(file, { force: true });
  say("asymgen browser demo: a page ingests into its durable queue (OPFS/IndexedDB) and uploads to asymgen serve");

  // The schema.json `asymgen generate --schema-out` writes is the generated classes' static
  // schemas (`npm run demo` checks the generated file is current); taken from them, it costs no
  // generator run (seconds of ts-morph) before the page is up.
  const schema: CanonicalObjectSchema[] = Object.values(weatherModels).flatMap((value) =>
    typeof value === "function" && "schema" in value ? [value.schema as CanonicalObjectSchema] : [],
  );
  fs.writeFileSync(schemaPath, `${JSON.stringify(schema, null, 2)}\n`);

  // The queue worker is its own bundle, served next to the page's, where the Realm's default
  // `new URL("./queue-worker.js", import.meta.url)` points (esbuild does not follow that form).
  const [page, worker] = await Promise.all([
    bundleForBrowser(path.join(pageDir, "demo-page.ts")),
    bundleForBrowser(path.join(root, "node_modules", "asymgen", "dist", "browser", "queue-worker.js")),
  ]);
  const pages = await startDemoPageServer(port);
  pages.put("/index.html", { contentType: "text/html; charset=utf-8", body: fs.readFileSync(path.join(pageDir, "index.html")) });
  pages.put("/style.css", { contentType: "text/css; charset=utf-8", body: fs.readFileSync(path.join(pageDir, "style.css")) });
  pages.put("/demo-page.js", page);
  pages.put("/queue-worker.js", worker);

  const serveArgs = ["--schema", schemaPath, "--app-id", APP_ID, "--store", `sqlite:${sqlitePath}`, "--cors-origin", pages.origin, "--log-level", "warn"];
  say(`asymgen serve --schema ${shown(schemaPath)} --app-id ${APP_ID} --store sqlite:${shown(sqlitePath)} --cors-origin ${pages.origin}`);
  const server = await startServerProcess(serveArgs).catch(async (error: unknown) => {
    await pages.close();
    throw error;
  });
  pages.put("/demo-config.json", { contentType: "application/json", body: JSON.stringify({ appId: APP_ID, serverUrl: server.url }) });
  try {
    pages.countStoredRows(
      sqlitePath,
      schema.filter((model) => model.asymmetric).map((model) => model.name),
    );
  } catch (error) {
    await Promise.all([pages.close(), server.stop()]);
    throw error;
  }
  say(`   ingest server: ${server.url} (SQLite: ${shown(sqlitePath)})`);
  say();
  say(`Open ${pages.origin}/ in Chromium, Edge, Firefox or Safari (http on 127.0.0.1 is a secure context).`);
  say("   a second tab of the same URL is a follower; ?storage=indexeddb forces the IndexedDB fallback");
  say("Ctrl-C to stop.");

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping the page server and asymgen serve`);
    try {
      await pages.close();
    } finally {
      await server.stop();
    }
    say("stopped");
  };
  // SIGHUP: the terminal closed.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      stop(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`stopping failed: ${String(error)}\n`);
          process.exit(1);
        },
      );
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo:browser failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
