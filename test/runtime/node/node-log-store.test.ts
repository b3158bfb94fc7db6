/**
 * The Node log store over a real directory: its lock, its sweep of half-done atomic writes, and
 * the file operations the queue relies on (two-piece writes, atomic create and replace); plus a
 * check that the queue's own folder stays platform-neutral (all Node I/O lives here).
 */
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { QueueLockedError } from "../../../runtime/errors.js";
import { openNodeLogStore } from "../../../runtime/node/node-log-store.js";
import { diskFullCodeOf } from "../../../runtime/queue/log-store.js";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-store-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("openNodeLogStore", () => {
  it("creates the directory, takes its lock until close, and a second open is refused meanwhile", () => {
    const where = path.join(dir, "nested", "queue");
    const store = openNodeLogStore(where);
    expect(store.location).toBe(path.resolve(where));
    expect(JSON.parse(fs.readFileSync(path.join(where, "lock"), "utf8")).pid).toBe(process.pid);
    expect(() => openNodeLogStore(where)).toThrow(QueueLockedError);
    store.close();
    expect(fs.existsSync(path.join(where, "lock"))).toBe(false);
    openNodeLogStore(where).close();
  });

  it("removes the temporary files of interrupted atomic writes at open, and nothing else", () => {
    fs.writeFileSync(path.join(dir, "ack.123.abcdef.tmp"), "half");
    fs.writeFileSync(path.join(dir, "seg-00000000000000000001.log"), "kept");
    const store = openNodeLogStore(dir);
    expect(store.list().sort()).toEqual(["lock", "seg-00000000000000000001.log"]);
    store.close();
  });

  it("creates a file atomically with its content and opens it; reads, two-piece writes, truncates and syncs it", async () => {
    const store = openNodeLogStore(dir);
    const file = store.create("seg-a", new Uint8Array([1, 2, 3]));
    expect(fs.readFileSync(store.pathOf("seg-a"))).toEqual(Buffer.from([1, 2, 3]));
    expect(fs.readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    // A piece of one buffer, then a whole second one, at a position: contiguous on disk.
    file.write(new Uint8Array([9, 4, 5, 9]), 1, 2, new Uint8Array([6, 7]), 3);
    file.write(new Uint8Array([8]), 0, 1, null, 7);
    expect(file.size()).toBe(8);
    const into = new Uint8Array(10);
    expect(file.read(into, 1, 9, 0)).toBe(8);
    expect([...into]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 0]);
    file.syncData();
    file.truncate(4);
    file.syncAll();
    await file.syncInBackground();
    expect(fs.statSync(store.pathOf("seg-a")).size).toBe(4);
    // A second handle on the same name, closed on its own.
    const again = store.open("seg-a");
    expect(again.size()).toBe(4);
    again.close();
    file.close();
    store.remove(["seg-a", "missing"]);
    expect(store.list()).toEqual(["lock"]);
    store.close();
  });

  it("a handle closed while its background sync runs is closed when the sync ends, and the sync still settles", async () => {
    const store = openNodeLogStore(dir);
    const file = store.create("seg-b", new Uint8Array(4096));
    const synced = file.syncInBackground();
    file.close();
    await expect(synced).resolves.toBeUndefined();
    store.close();
  });

  it("reads and atomically replaces small files; a missing one reads as null", () => {
    const store = openNodeLogStore(dir);
    expect(store.readFile("queue.json")).toBeNull();
    store.writeFileAtomically("queue.json", new TextEncoder().encode("one"));
    store.writeFileAtomically("queue.json", new TextEncoder().encode("two"));
    expect(new TextDecoder().decode(store.readFile("queue.json")!)).toBe("two");
    expect(fs.readdirSync(dir).sort()).toEqual(["lock", "queue.json"]);
    store.close();
  });

  it("opening a missing file throws, and disk-full errors are told apart by their code", () => {
    const store = openNodeLogStore(dir);
    expect(() => store.open("nothing")).toThrow(/ENOENT/);
    expect(diskFullCodeOf(Object.assign(new Error("full"), { code: "ENOSPC" }))).toBe("ENOSPC");
    expect(diskFullCodeOf(Object.assign(new Error("too big"), { code: "EFBIG" }))).toBe("EFBIG");
    expect(diskFullCodeOf(Object.assign(new Error("io"), { code: "EIO" }))).toBeNull();
    expect(diskFullCodeOf("not an error")).toBeNull();
    store.close();
  });
});
