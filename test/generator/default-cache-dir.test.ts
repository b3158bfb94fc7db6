/**
 * The default cache folder is never a shared, predictable folder another local user could plant
 * files in: the project's node_modules/.cache, else the user's own cache folder, else a per-user
 * temp folder that is used only when it is a real 0700 folder owned by this user.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isPrivateDir, resolveDefaultCacheDir } from "../../generator/config/default-cache-dir.js";

const made: string[] = [];
const savedXdg = process.env["XDG_CACHE_HOME"];
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  if (savedXdg === undefined) delete process.env["XDG_CACHE_HOME"];
  else process.env["XDG_CACHE_HOME"] = savedXdg;
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-cache-test-"));
  made.push(dir);
  return dir;
}

describe("resolveDefaultCacheDir", () => {
  test("a project with node_modules caches in node_modules/.cache/asymgen", () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, "node_modules"));
    expect(resolveDefaultCacheDir(dir)).toBe(path.join(dir, "node_modules", ".cache", "asymgen"));
  });

  test("without node_modules: the user's cache folder, never the shared temp folder", () => {
    const dir = tempDir();
    process.env["XDG_CACHE_HOME"] = path.join(dir, "xdg");
    expect(resolveDefaultCacheDir(dir)).toBe(path.join(dir, "xdg", "asymgen"));
    delete process.env["XDG_CACHE_HOME"];
    const fallback = resolveDefaultCacheDir(dir);
    expect(fallback).not.toBe(path.join(os.tmpdir(), "asymgen-format-cache"));
    expect(fallback.startsWith(os.homedir()) || isPrivateDir(fallback, process.getuid!())).toBe(true);
  });

  test("a temp folder counts as private only when it is a real folder of this user with mode 0700", () => {
    const uid = process.getuid!();
    const dir = tempDir();
    const open = path.join(dir, "open");
    fs.mkdirSync(open, { mode: 0o755 });
    fs.chmodSync(open, 0o755);
    const closed = path.join(dir, "closed");
    fs.mkdirSync(closed, { mode: 0o700 });
    const link = path.join(dir, "link");
    fs.symlinkSync(closed, link);
    expect(isPrivateDir(closed, uid)).toBe(true);
    expect(isPrivateDir(open, uid)).toBe(false);
    expect(isPrivateDir(link, uid)).toBe(false);
    expect(isPrivateDir(closed, uid + 1)).toBe(false);
    expect(isPrivateDir(path.join(dir, "missing"), uid)).toBe(false);
  });
});
