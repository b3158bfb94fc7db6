/**
 * V8's compiled code for the TypeScript compiler, kept between CLI runs.
 *
 * Why: ts-morph loads TypeScript's whole API bundle (9 MB of JavaScript). Compiling it, and then
 * the hundreds of its functions a run calls for the first time, cost a cold `asymgen generate`
 * more than anything the generator itself does besides parsing (measured on the bench corpus:
 * see docs/benchmark-history.md, bench:generate). `tsc` turns on Node's compile cache for the same reason
 * (typescript/lib/tsc.js calls `module.enableCompileCache()`), which exists from Node 22.1 on.
 * So: on Node ≥ 22.1 the same call; on Node 20 the same idea for the files that matter, with
 * V8's own code cache (`vm.Script` cachedData): TypeScript's bundle and ts-morph.js are compiled
 * from the cache and put into `require.cache`, where the `require()` calls of ts-morph (and of
 * generator/ts-morph.cts) find them. Not ts-morph-common.js: it is mostly TypeScript's lib files
 * as strings, its code cache is larger than the file (5.6 MB), and it measured no faster.
 *
 * The cache holds code that runs, so it lives where only this user can write (as the format
 * cache does, config/default-cache-dir.ts): `$NODE_COMPILE_CACHE/asymgen`, else a 0700 folder of
 * this user under the OS temp folder (where Node keeps its own). V8 rejects data made for
 * another V8 version, other flags or another source (then it is made afresh), and the file's
 * name carries the bundle's path, size and mtime. `NODE_DISABLE_COMPILE_CACHE=1` turns it off, as
 * it does Node's. Any failure only costs speed: the bundle is then loaded the ordinary way.
 */
import { isAscii } from "node:buffer";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import { isPrivateDir } from "../config/default-cache-dir.js";

/** What `enableCompileCache()` did. */
export type CompileCacheStatus =
  /** Node's own compile cache (Node ≥ 22.1). */
  | "node"
  /** TypeScript's bundle and ts-morph's were compiled from the cached code. */
  | "hit"
  /** No usable cache yet for one of them: it was compiled, its code is saved when the process exits. */
  | "miss"
  /** Turned off (NODE_DISABLE_COMPILE_CACHE), or no safe folder, or the bundle was not found. */
  | "off";

/** The part of node:module's namespace that @types/node 20 does not declare yet. */
interface ModuleWithCompileCache {
  enableCompileCache?: (directory?: string) => unknown;
}

/** The CommonJS Module class's internals the polyfill uses (stable since Node 0.x, untyped). */
interface ModuleClass {
  new (id: string): { exports: unknown; filename: string; loaded: boolean };
  wrap(source: string): string;
}

let status: CompileCacheStatus | undefined;

/**
 * Turns the compile cache on for the modules loaded from now on (call it before anything imports
 * ts-morph); returns what it did. Idempotent.
 */
export function enableCompileCache(): CompileCacheStatus {
  status ??= enable();
  return status;
}

function enable(): CompileCacheStatus {
  if (process.env["NODE_DISABLE_COMPILE_CACHE"] !== undefined && process.env["NODE_DISABLE_COMPILE_CACHE"] !== "") return "off";
  const builtIn = (Module as unknown as ModuleWithCompileCache).enableCompileCache;
  if (typeof builtIn === "function") {
    try {
      builtIn();
      return "node";
    } catch {
      return "off";
    }
  }
  try {
    const bundles = locateBundles();
    const dir = resolveCacheDir();
    if (bundles === undefined || dir === undefined) return "off";
    // TypeScript first: ts-morph requires @ts-morph/common, which requires it and finds it loaded.
    const outcomes = bundles.map((bundle) => loadWithCodeCache(bundle, dir));
    return outcomes.every((outcome) => outcome === "hit") ? "hit" : "miss";
  } catch {
    // Whatever went wrong (an unexpected layout, a read error) happened before ts-morph loaded:
    // it then loads the ordinary way, bundles already registered included.
    return "off";
  }
}

/**
 * The CommonJS bundles to load with the cache, TypeScript first: `@ts-morph/common/dist/typescript.js`
 * (what ts-morph-common.js requires as "./typescript"), then `ts-morph.js`.
 */
function locateBundles(): string[] | undefined {
  const fromHere = createRequire(import.meta.url);
  const tsMorph = fromHere.resolve("ts-morph");
  const common = createRequire(tsMorph).resolve("@ts-morph/common");
  const bundles = [path.join(path.dirname(common), "typescript.js"), tsMorph];
  // Already loaded (a second call, or a host that imported ts-morph first): nothing to gain.
  return bundles.some((bundle) => fromHere.cache[bundle] !== undefined) ? undefined : bundles;
}

function resolveCacheDir(): string | undefined {
  const fromEnv = process.env["NODE_COMPILE_CACHE"];
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  const dir = fromEnv !== undefined && fromEnv !== "" ? path.resolve(fromEnv, "asymgen") : path.join(os.tmpdir(), `asymgen-compile-cache${uid === undefined ? "" : `-${uid}`}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return undefined;
  }
  // Without uids (Windows) the temp folder is already the user's own.
  return uid === undefined || isPrivateDir(dir, uid) ? dir : undefined;
}

/** Compiles and runs `bundle` as CommonJS with V8's code cache, and registers it in require.cache. */
function loadWithCodeCache(bundle: string, dir: string): "hit" | "miss" {
  const stats = statSync(bundle);
  const key = createHash("sha256").update(`${bundle}\0${stats.size}\0${stats.mtimeMs}\0${process.version}\0${process.arch}`).digest("hex").slice(0, 32);
  const cacheFile = path.join(dir, `${path.basename(bundle, ".js")}-${key}.v8`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // Not made yet.
  }
  const bytes = readFileSync(bundle);
  // Node 20 decodes large UTF-8 files slowly (~0.1 s for TypeScript's 9 MB); an ASCII file (as
  // TypeScript's is) reads as Latin-1 into the same string, ten times faster.
  const source = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
  const CommonJsModule = Module as unknown as ModuleClass;
  const script = new vm.Script(CommonJsModule.wrap(source), cachedData === undefined ? { filename: bundle } : { filename: bundle, cachedData });
  const module = new CommonJsModule(bundle);
  module.filename = bundle;
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  const requireFromBundle = createRequire(bundle);
  wrapper.call(module.exports, module.exports, requireFromBundle, module, bundle, path.dirname(bundle));
  module.loaded = true;
  requireFromBundle.cache[bundle] = module as unknown as NodeJS.Module;
  const hit = cachedData !== undefined && !script.cachedDataRejected;
  // Made at exit, so the functions this run compiled on first call are in it too.
  if (!hit) process.once("exit", () => saveCodeCache(script, cacheFile));
  return hit ? "hit" : "miss";
}

function saveCodeCache(script: vm.Script, cacheFile: string): void {
  try {
    const temp = `${cacheFile}.${process.pid}.tmp`;
    writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
    // Renamed into place: a process starting meanwhile reads the old file or the whole new one.
    renameSync(temp, cacheFile);
  } catch {
    // A full disk or a read-only folder: the next run compiles again.
  }
}
