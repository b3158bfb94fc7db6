/**
 * The three packages as a user gets them: `npm pack` each workspace (their dist/ must be built),
 * then, in one fresh project, step by step as the README's "in your own project" goes: the runtime
 * alone (exactly asymgen + bson, no install scripts; imported from ESM and from CommonJS), then
 * @asymgen/generator as a devDependency (`npx asymgen generate`), `npx asymgen serve` before the
 * server is installed (the install hint), then @asymgen/server and `npx asymgen serve` on SQLite
 * answering /health over HTTP, with neither pg nor mongodb installed.
 * Slow (npm installs, better-sqlite3 may compile): set ASYMGEN_E2E_PACKAGE=1 to run it (.ci/run
 * does); `npm test` alone skips it with a visible message.
 */
import { afterAll, beforeAll, describe, expect, test } from "@jest/globals";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const enabled = process.env["ASYMGEN_E2E_PACKAGE"] === "1";
if (!enabled) console.log("test/e2e/package.test.ts skipped: set ASYMGEN_E2E_PACKAGE=1 to pack the three packages and install them in a fresh project.");

const MODEL = `import { MapTo, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";

/** A line of telemetry. */
@RealmModel(ObjectType.asymmetricObject)
export class _Event {
  @PrimaryKey()
  @MapTo("_id")
  id!: Types.UUID;
  kind: string = "heartbeat";
  at!: Date;
}
`;

/** The lifecycle scripts npm runs when a package is installed. */
const INSTALL_SCRIPTS = ["preinstall", "install", "postinstall", "prepare"];

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: "false" } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `npm install` in the app; fails the test with npm's output when it fails. */
async function npmInstall(app: string, args: string[]): Promise<void> {
  const installed = await exec("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", ...args], app, 600_000);
  if (installed.code !== 0) throw new Error(`npm install ${args.join(" ")} failed:\n${installed.stderr}`);
}

/** The packages under node_modules (scoped ones as @scope/name), hidden entries (.bin, .package-lock.json) left out. */
function installedPackages(app: string): string[] {
  const root = path.join(app, "node_modules");
  return readdirSync(root)
    .filter((name) => !name.startsWith("."))
    .flatMap((name) => (name.startsWith("@") ? readdirSync(path.join(root, name)).map((inner) => `${name}/${inner}`) : [name]))
    .sort();
}

/** The URL `asymgen serve` prints once it listens; rejects when it exits first or stays silent. */
function waitForListening(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => finish(new Error(`asymgen serve printed no "listening on" line in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      const match = /listening on (http:\/\/\S+) /.exec(output);
      if (match !== null) finish(undefined, match[1]);
    };
    const onExit = (code: number | null): void => finish(new Error(`asymgen serve exited with ${code} before listening:\n${output}`));
    function finish(error: Error | undefined, url?: string): void {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.off("exit", onExit);
      if (error !== undefined) reject(error);
      else resolve(url!);
    }
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
  });
}

const describeIfEnabled = enabled ? describe : describe.skip;

describeIfEnabled("the packed packages in a fresh project", () => {
  let temp: string;
  let app: string;
  const tarballs = new Map<string, string>();
  const started = Date.now();

  beforeAll(async () => {
    for (const built of ["runtime/dist/node/index.js", "generator/dist/generator/cli.js", "server/dist/cli.js"])
      if (!existsSync(path.join(repoRoot, built))) throw new Error(`${built} is missing: run \`npm run build\` first`);
    temp = mkdtempSync(path.join(os.tmpdir(), "asymgen-pack-"));
    // The dist/ folders are built; --ignore-scripts keeps the workspaces' scripts from running.
    // The three published packages by name: the other workspaces (editors/vscode, test/typescript7) are private.
    const packed = await exec("npm", ["pack", "-w", "runtime", "-w", "generator", "-w", "server", "--ignore-scripts", "--json", "--pack-destination", temp], repoRoot);
    expect(packed.code).toBe(0);
    for (const { name, filename } of JSON.parse(packed.stdout) as { name: string; filename: string }[]) tarballs.set(name, path.join(temp, filename));
    expect([...tarballs.keys()].sort()).toEqual(["@asymgen/generator", "@asymgen/server", "asymgen"]);
    app = path.join(temp, "app");
    mkdirSync(app);
    // allowScripts: npm runs a dependency's install script only where the project allows it
    // (better-sqlite3 fetches or compiles its native module), as the README says.
    writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "asymgen-consumer", private: true, type: "module", allowScripts: { "better-sqlite3": true } }, null, 2));
    writeFileSync(path.join(app, "models.ts"), MODEL);
  }, 120_000);

  afterAll(() => {
    if (temp !== undefined) rmSync(temp, { recursive: true, force: true });
    console.log(`test/e2e/package.test.ts: packed and installed the three packages in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });

  test("the runtime alone installs exactly asymgen and bson, with no install scripts", async () => {
    await npmInstall(app, [tarballs.get("asymgen")!]);
    expect(installedPackages(app)).toEqual(["asymgen", "bson"]);
    const lock = JSON.parse(readFileSync(path.join(app, "package-lock.json"), "utf8")) as { packages: Record<string, { hasInstallScript?: boolean }> };
    expect(Object.entries(lock.packages).filter(([, entry]) => entry.hasInstallScript === true)).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(app, "node_modules/asymgen/package.json"), "utf8")) as { scripts?: Record<string, string> };
    expect(Object.keys(manifest.scripts ?? {}).filter((name) => INSTALL_SCRIPTS.includes(name))).toEqual([]);
    // Shipped: dist with types; not the sources, tests or build info.
    const root = path.join(app, "node_modules/asymgen");
    expect(existsSync(path.join(root, "dist/exports.d.ts"))).toBe(true);
    expect(existsSync(path.join(root, "dist/browser/index.js"))).toBe(true);
    expect(existsSync(path.join(root, "realm.ts"))).toBe(false);
    expect(existsSync(path.join(root, "dist/tsconfig.tsbuildinfo"))).toBe(false);
  }, 600_000);

  test('import("asymgen") works from ESM, and require("asymgen") from CommonJS', async () => {
    const esm = await exec(
      process.execPath,
      ["--input-type=module", "-e", 'const m = await import("asymgen"); const c = await import("asymgen/codegen"); console.log(typeof m.RealmModel, typeof m.Realm, typeof m.ObjectId, typeof c.BsonWriter);'],
      app,
    );
    expect(esm.stderr).toBe("");
    expect(esm.stdout.trim()).toBe("function function function function");
    writeFileSync(path.join(app, "consumer.cjs"), 'const m = require("asymgen");\nconst c = require("asymgen/codegen");\nconsole.log(typeof m.RealmModel, typeof m.ObjectType, typeof c.BsonWriter);\n');
    const cjs = await exec(process.execPath, ["consumer.cjs"], app);
    expect(cjs.stderr).not.toMatch(/ERR_REQUIRE_ASYNC_MODULE|ERR_REQUIRE_ESM/);
    expect(cjs.stdout.trim()).toBe("function object function");
  });

  test("with @asymgen/generator as a devDependency, npx asymgen generate works", async () => {
    await npmInstall(app, ["--save-dev", tarballs.get("@asymgen/generator")!]);
    const manifest = JSON.parse(readFileSync(path.join(app, "package.json"), "utf8")) as { devDependencies?: Record<string, string> };
    expect(Object.keys(manifest.devDependencies ?? {})).toEqual(["@asymgen/generator"]);
    const help = await exec("npx", ["--no-install", "asymgen", "--help"], app);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("asymgen generate");
    // Listed even before the server is installed.
    expect(help.stdout).toContain("asymgen serve");
    expect(help.stdout).toContain("asymgen apikey");
    const generated = await exec("npx", ["--no-install", "asymgen", "generate", "models.ts", "--schema-out", "schema.json"], app);
    expect(generated.stderr).toBe("");
    expect(generated.code).toBe(0);
    expect(generated.stdout).toMatch(/^Generated 2 files \(0 unchanged\) from 1 file, 1 model in /);
    const output = readFileSync(path.join(app, "models.realm.ts"), "utf8");
    expect(output).toContain("// Generated by asymgen from models.ts. Do not edit.");
    expect(output).toContain('from "asymgen/codegen"');
    const schemas = JSON.parse(readFileSync(path.join(app, "schema.json"), "utf8")) as { name: string }[];
    expect(schemas.map((schema) => schema.name)).toEqual(["Event"]);
    const check = await exec("npx", ["--no-install", "asymgen", "generate", "models.ts", "--check"], app);
    expect(check.code).toBe(0);
    const library = await exec(process.execPath, ["--input-type=module", "-e", 'const m = await import("@asymgen/generator"); console.log(typeof m.generate, typeof m.openGenerator);'], app);
    expect(library.stdout.trim()).toBe("function function");
  }, 600_000);

  test("without @asymgen/server, npx asymgen serve says what to install", async () => {
    const serve = await exec("npx", ["--no-install", "asymgen", "serve", "--schema", "schema.json", "--app-id", "weather"], app);
    expect(serve.code).toBe(2);
    expect(serve.stderr.trim()).toBe('asymgen: "asymgen serve" is part of the ingest server: npm install @asymgen/server');
    const apikey = await exec("npx", ["--no-install", "asymgen", "apikey", "list", "--app-id", "weather"], app);
    expect(apikey.code).toBe(2);
    expect(apikey.stderr).toContain("npm install @asymgen/server");
  });

  test("with @asymgen/server, asymgen serve runs on SQLite, with neither pg nor mongodb installed", async () => {
    await npmInstall(app, [tarballs.get("@asymgen/server")!]);
    const installed = installedPackages(app);
    expect(installed).toContain("better-sqlite3");
    expect(installed).not.toContain("pg");
    expect(installed).not.toContain("mongodb");
    // The bin itself (what npx runs), not npx: npx does not pass SIGTERM on to it.
    const bin = path.join(app, "node_modules/.bin/asymgen");
    const child = spawn(bin, ["serve", "--schema", "schema.json", "--app-id", "weather", "--port", "0", "--store", "sqlite:./data/ingest.sqlite"], {
      cwd: app,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, npm_config_update_notifier: "false" },
    });
    const stderr: string[] = [];
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const url = await waitForListening(child, 60_000);
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(existsSync(path.join(app, "data/ingest.sqlite"))).toBe(true);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nstderr:\n${stderr.join("")}`);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  }, 600_000);
});
