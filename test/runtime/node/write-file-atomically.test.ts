/**
 * The client's one atomic-write helper: an exact mode whatever the umask, a temporary file no
 * other writer shares, and nothing left behind when the write fails.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createFileAtomically, removeStaleTempFiles, writeFileAtomically } from "../../../runtime/node/write-file-atomically.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-atomic-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `body` with the process umask set to `mask`, then restores it. */
function withUmask<T>(mask: number, body: () => T): T {
  const previous = process.umask(mask);
  try {
    return body();
  } finally {
    process.umask(previous);
  }
}

const modeOf = (file: string) => fs.statSync(file).mode & 0o777;

describe.each(process.platform === "win32" ? [] : ["posix"])("writeFileAtomically (%s modes)", () => {
  test("an exact mode holds under a permissive umask and replaces a 0666 file", () => {
    const file = path.join(tempDir(), "secret.json");
    fs.writeFileSync(file, "old");
    fs.chmodSync(file, 0o666);
    withUmask(0, () => writeFileAtomically(file, "new", { mode: 0o600 }));
    expect(fs.readFileSync(file, "utf8")).toBe("new");
    expect(modeOf(file)).toBe(0o600);
  });

  test("without a mode the umask applies as to any new file (0666 less the umask)", () => {
    const file = path.join(tempDir(), "meta");
    withUmask(0o077, () => writeFileAtomically(file, "x"));
    expect(modeOf(file)).toBe(0o600);
    withUmask(0o022, () => writeFileAtomically(file, "y"));
    expect(modeOf(file)).toBe(0o644);
    // A group-writable project keeps group-writable generated files, as fs.writeFileSync would.
    withUmask(0o002, () => writeFileAtomically(file, "z"));
    expect(modeOf(file)).toBe(0o664);
  });
});

describe("writeFileAtomically", () => {
  test("a failed rename removes the temporary file and leaves the target as it was", () => {
    const dir = tempDir();
    // A non-empty directory where the file should go: rename(2) refuses to replace it.
    const target = path.join(dir, "target");
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, "inside"), "kept");
    expect(() => writeFileAtomically(target, "data", { mode: 0o600 })).toThrow();
    expect(fs.readdirSync(dir)).toEqual(["target"]);
    expect(fs.readdirSync(target)).toEqual(["inside"]);
  });

  test("a temporary file left at a predictable name (a crash, another writer) is never written through", () => {
    const dir = tempDir();
    const file = path.join(dir, "cursor");
    // The names a fixed-name scheme would pick; an existing file there keeps its mode and owner
    // when opened with "w", and would then be renamed over the target.
    for (const stale of [`${file}.tmp`, `${file}.${process.pid}.tmp`]) {
      fs.writeFileSync(stale, "stale");
      fs.chmodSync(stale, 0o666);
    }
    withUmask(0, () => writeFileAtomically(file, "new", { mode: 0o600 }));
    expect(fs.readFileSync(file, "utf8")).toBe("new");
    if (process.platform !== "win32") expect(modeOf(file)).toBe(0o600);
    expect(fs.readFileSync(`${file}.tmp`, "utf8")).toBe("stale");
    expect(fs.readdirSync(dir).sort()).toEqual(["cursor", "cursor.tmp", `cursor.${process.pid}.tmp`].sort());
  });
});

describe("removeStaleTempFiles", () => {
  /** A pid no process holds: one that has just exited. */
  const deadPid = (): number => spawnSync(process.execPath, ["-e", ""]).pid!;

  test("removes a crashed writer's copy, keeps a live writer's fresh one and a just-written one of a pid not running here, and leaves other names alone", () => {
    const dir = tempDir();
    const file = path.join(dir, "users.json");
    const dead = `${file}.${deadPid()}.00ff00ff00ff.tmp`;
    const live = `${file}.${process.ppid}.00ff00ff00ff.tmp`;
    // Another container's writer on a shared volume: its pid means nothing here, its copy is fresh.
    const elsewhere = `${file}.${deadPid()}.11ee11ee11ee.tmp`;
    const others = [`${file}.x.tmp`, `${file}.${deadPid()}.tmp.bak`, `${file}.-1.tmp`, path.join(dir, "cursor.1.tmp")];
    for (const name of [dead, live, elsewhere, ...others]) fs.writeFileSync(name, "");
    const tenSecondsAgo = new Date(Date.now() - 10_000);
    fs.utimesSync(dead, tenSecondsAgo, tenSecondsAgo);
    removeStaleTempFiles(file);
    expect(fs.readdirSync(dir).map((name) => path.join(dir, name)).sort()).toEqual([live, elsewhere, ...others].sort());
  });

  test.each(process.platform === "win32" ? [] : ["posix"])("a symlink or a directory under a temporary name: the link goes, its target and the directory stay (%s)", () => {
    const dir = tempDir();
    const file = path.join(dir, "users.json");
    const target = path.join(dir, "precious");
    fs.writeFileSync(target, "kept");
    const pid = deadPid();
    fs.symlinkSync(target, `${file}.${pid}.aa.tmp`);
    fs.mkdirSync(`${file}.${pid}.bb.tmp`);
    const tenSecondsAgo = new Date(Date.now() - 10_000);
    fs.lutimesSync(`${file}.${pid}.aa.tmp`, tenSecondsAgo, tenSecondsAgo);
    removeStaleTempFiles(file);
    expect(fs.readdirSync(dir).sort()).toEqual(["precious", `users.json.${pid}.bb.tmp`]);
    expect(fs.readFileSync(target, "utf8")).toBe("kept");
  });

  test("never throws: a missing folder is nothing to sweep", () => {
    expect(() => removeStaleTempFiles(path.join(tempDir(), "no", "such", "users.json"))).not.toThrow();
  });
});

describe("createFileAtomically", () => {
  test("creates a missing file complete, with its exact mode, and leaves an existing one alone", () => {
    const file = path.join(tempDir(), "key");
    expect(withUmask(0, () => createFileAtomically(file, "first\n", { mode: 0o600 }))).toBe(true);
    expect([fs.readFileSync(file, "utf8"), modeOf(file)]).toEqual(["first\n", 0o600]);
    expect(createFileAtomically(file, "second\n", { mode: 0o600 })).toBe(false);
    expect(fs.readFileSync(file, "utf8")).toBe("first\n");
    expect(fs.readdirSync(path.dirname(file))).toEqual(["key"]);
  });

  test("of six processes creating one file at once, exactly one wins and none ever reads it empty or partial", async () => {
    const file = path.join(tempDir(), "key");
    const moduleUrl = new URL("../../../runtime/dist/node/write-file-atomically.js", import.meta.url).href;
    // Each child waits for a shared start time, then creates the file with its own 64 KiB content
    // and reads back what is there (the winner's).
    const start = Date.now() + 500;
    const child = (id: number) =>
      new Promise<string>((resolve, reject) => {
        const script = `
          const { createFileAtomically } = await import(${JSON.stringify(moduleUrl)});
          const { readFileSync } = await import("node:fs");
          while (Date.now() < ${start});
          const won = createFileAtomically(${JSON.stringify(file)}, "${id}".repeat(65536), { mode: 0o600 });
          const read = readFileSync(${JSON.stringify(file)}, "utf8");
          console.log(JSON.stringify({ won, length: read.length, same: new Set(read).size === 1, first: read[0] }));`;
        const proc = spawn(process.execPath, ["--input-type=module", "-e", script]);
        let out = "";
        proc.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
        proc.on("error", reject);
        // "close", not "exit": exit can come before the last of stdout has been read.
        proc.on("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child ${id} exited ${code}`))));
      });
    const results = (await Promise.all([1, 2, 3, 4, 5, 6].map(child))).map((line) => JSON.parse(line) as { won: boolean; length: number; same: boolean; first: string });
    expect(results.filter((result) => result.won)).toHaveLength(1);
    const winner = String(results.findIndex((result) => result.won) + 1);
    for (const result of results) expect(result).toEqual({ won: result.won, length: 65536, same: true, first: winner });
    expect(fs.readdirSync(path.dirname(file))).toEqual(["key"]);
  });
});
