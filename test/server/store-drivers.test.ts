/**
 * The optional store drivers: `pg` and `mongodb` are loaded only when a store URL names them. With
 * the driver missing, opening its store fails with one line naming the package to install, and a
 * real `asymgen serve` process that cannot resolve either package (a module-resolution hook
 * refuses them, as a fresh install without them would) serves and stores on SQLite, and refuses
 * a postgres:// or mongodb:// store with that line.
 */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { AsymgenError } from "../../runtime/errors.js";
import { StoreDriverMissingError } from "../../server/stores/load-store-driver.js";
import type { StoreDriverName } from "../../server/stores/import-driver.js";
import { openStore } from "../../server/stores/open-store.js";
import { encodeBatch, loginAnonymous, makeWeatherDoc, newQueueId, postIngest, sharedTestSecret, testSchema } from "../support/ingest-server-fixtures.js";
import { cliPath, watchLines } from "../support/spawn-ingest-server.js";

/** What Node throws for `import("pg")` when pg is not installed. */
function moduleNotFound(name: string): Error {
  return Object.assign(new Error(`Cannot find package '${name}' imported from ${import.meta.url}`), { code: "ERR_MODULE_NOT_FOUND" });
}

describe("opening a store whose driver package is missing", () => {
  const cases: [url: string, driver: StoreDriverName, message: string][] = [
    ["postgres://user:secret@127.0.0.1:1/asymgen", "pg", 'the postgres:// store needs the "pg" package: npm install pg'],
    ["postgresql://127.0.0.1:1/asymgen", "pg", 'the postgres:// store needs the "pg" package: npm install pg'],
    ["mongodb://127.0.0.1:1/asymgen", "mongodb", 'the mongodb:// store needs the "mongodb" package: npm install mongodb'],
    ["mongodb+srv://cluster.example/asymgen", "mongodb", 'the mongodb:// store needs the "mongodb" package: npm install mongodb'],
  ];

  it.each(cases)("%s: a StoreDriverMissingError naming %s", async (url, driver, message) => {
    const asked: string[] = [];
    const opening = openStore(url, {
      importDriver: async (name) => {
        asked.push(name);
        throw moduleNotFound(name);
      },
    });
    const error = await opening.then(
      () => null,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(StoreDriverMissingError);
    expect(error).toBeInstanceOf(AsymgenError);
    expect(error).toMatchObject({ name: "StoreDriverMissingError", driver, message });
    expect(asked).toEqual([driver]);
  });

  it("passes any other failure of a driver that is there through unchanged", async () => {
    const broken = new SyntaxError("Unexpected token in the driver");
    await expect(openStore("postgres://127.0.0.1:1/asymgen", { importDriver: () => Promise.reject(broken) })).rejects.toBe(broken);
  });

  it("never loads a driver for the SQLite store", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-store-drivers-"));
    const asked: string[] = [];
    try {
      const store = await openStore(`sqlite:${path.join(dir, "ingest.sqlite")}`, {
        importDriver: async (name) => {
          asked.push(name);
          throw moduleNotFound(name);
        },
      });
      await store.close();
      expect(asked).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("asymgen serve with neither pg nor mongodb resolvable", () => {
  const appId = "no-drivers-app";
  let dir: string;
  let schemaPath: string;
  /** `node --import` of this registers a hook that refuses to resolve pg and mongodb (Node's own error). */
  let registerHook: string;
  const env = { ...process.env, ASYMGEN_SECRET: sharedTestSecret };

  beforeAll(() => {
    if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-no-drivers-"));
    schemaPath = path.join(dir, "schema.json");
    fs.writeFileSync(schemaPath, JSON.stringify(testSchema));
    fs.writeFileSync(
      path.join(dir, "hide-drivers.mjs"),
      `export async function resolve(specifier, context, nextResolve) {
        if (specifier === "pg" || specifier === "mongodb" || specifier.startsWith("pg/") || specifier.startsWith("mongodb/")) {
          throw Object.assign(new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL), { code: "ERR_MODULE_NOT_FOUND" });
        }
        return nextResolve(specifier, context);
      }\n`,
    );
    registerHook = path.join(dir, "register.mjs");
    fs.writeFileSync(registerHook, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(path.join(dir, "hide-drivers.mjs")).href)});\n`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const serveArgs = (store: string) => ["--import", pathToFileURL(registerHook).href, cliPath, "serve", "--schema", schemaPath, "--app-id", appId, "--port", "0", "--store", store, "--quiet"];

  it("the hook really hides the drivers", () => {
    const probe = spawnSync(process.execPath, ["--import", pathToFileURL(registerHook).href, "--input-type=module", "-e", 'await import("pg")'], { encoding: "utf8" });
    expect(probe.status).not.toBe(0);
    expect(probe.stderr).toContain("Cannot find package 'pg'");
  });

  it("serves on SQLite and stores a batch", async () => {
    const child = spawn(process.execPath, serveArgs(`sqlite:${path.join(dir, "ingest.sqlite")}`), { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const [, url = ""] = await Promise.race([
        watchLines(child).waitFor(/listening on (http:\/\/\S+)/),
        exited.then((code) => Promise.reject(new Error(`asymgen serve exited (${code}) before listening: ${stderr}`))),
      ]);
      const { access_token } = await loginAnonymous(url, appId);
      const body = encodeBatch(newQueueId(), [{ seq: 1, table: "WeatherSensor", doc: makeWeatherDoc(1) }]);
      const { status, answer } = await postIngest(url, appId, access_token, body);
      expect({ status, acknowledgedSeq: answer?.acknowledgedSeq, rejected: answer?.rejected }).toEqual({ status: 200, acknowledgedSeq: 1n, rejected: [] });
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe("");
  });

  it.each([
    ["postgres://127.0.0.1:1/asymgen", 'the postgres:// store needs the "pg" package: npm install pg'],
    ["mongodb://127.0.0.1:1/asymgen", 'the mongodb:// store needs the "mongodb" package: npm install mongodb'],
  ])("refuses --store %s with one line naming the package", (store, message) => {
    const result = spawnSync(process.execPath, serveArgs(store), { cwd: dir, env, encoding: "utf8", timeout: 20_000 });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 1, stderr: `asymgen: cannot start the ingest server: ${message}\n` });
  });
});
