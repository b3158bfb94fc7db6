/**
 * The queue's lock against a second process (real child processes). Needs `npm run build`.
 */
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { QueueLockedError, Realm } from "../../runtime/node/index.js";
import { Measurement } from "../support/queue-models.js";
import "../support/install-node-platform.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const child = path.join(here, "children", "queue-lock-child.mjs");
let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-lock-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function startChild(): { proc: ReturnType<typeof spawn>; firstLine: Promise<string>; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [child, dir], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const firstLine = new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]!);
    });
    proc.on("exit", () => reject(new Error(`child exited without a line: ${out}`)));
  });
  return { proc, firstLine, exited };
}

describe("queue lock across processes", () => {
  it("a second process gets QueueLockedError naming the holder while the first has the queue open", async () => {
    const realm = await Realm.open({ schema: [Measurement], path: dir });
    const second = startChild();
    const line = await second.firstLine;
    expect(line).toMatch(new RegExp(`^QueueLockedError ${process.pid} `));
    expect(line).toContain("already open");
    await second.exited;
    realm.close();
    const third = startChild();
    expect(await third.firstLine).toBe("open");
    third.proc.stdin!.end();
    expect(await third.exited).toBe(0);
  });

  it("this process is refused while a child holds the queue, and takes it over once the child is killed", async () => {
    const holder = startChild();
    expect(await holder.firstLine).toBe("open");
    let error: unknown;
    try {
      await Realm.open({ schema: [Measurement], path: dir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QueueLockedError);
    expect((error as QueueLockedError).ownerPid).toBe(holder.proc.pid);
    holder.proc.kill("SIGKILL");
    await holder.exited;
    const realm = await Realm.open({ schema: [Measurement], path: dir });
    expect(realm.write(() => realm.ingest(Measurement, { id: 1, deviceId: "d", value: 1 }))).toBe(1);
    realm.close();
  });
});
