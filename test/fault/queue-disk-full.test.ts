/**
 * A write the disk refuses leaves the queue as it was: a child runs under a file-size limit
 * (`ulimit -f`, so the kernel fails the write with EFBIG as a full disk fails it with ENOSPC)
 * and ingests until refused. Needs `npm run build` and a POSIX shell.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-diskfull-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("queue on a full disk", () => {
  it.each(["os", "full"])("refuses the transaction with QueueDiskFullError, truncating the segment back to the frame start (durability %s)", (durability) => {
    // Under "full" the queue first tries to preallocate 1 MiB of zeros, more than the limit
    // allows: it must fall back to writing the frame alone, not refuse a transaction that fits.
    const target = path.join(dir, durability);
    const script = `ulimit -f 256 && exec "$0" "$1" "$2" "$3"`;
    const out = execFileSync("/bin/sh", ["-c", script, process.execPath, path.join(here, "children", "queue-disk-full-child.mjs"), target, durability], {
      encoding: "utf8",
    });
    const report = JSON.parse(out.trim()) as Record<string, unknown>;
    console.log(`disk full (${durability}): ${JSON.stringify(report)}`);
    expect(report.name).toBe("QueueDiskFullError");
    expect(["EFBIG", "ENOSPC"]).toContain(report.code);
    expect(report.committed).toBeGreaterThan(0);
    expect(report.sizeAfter).toBe(report.sizeBefore);
    expect(report.pending).toBe(report.committed);
    // The refusal did not wedge the queue: a small transaction that fits commits right after
    // it, with the next sequence number, and is still there after reopening.
    expect(report.roomAfterRefusal).toBeGreaterThanOrEqual(1024);
    expect(report.smallError).toBeNull();
    expect(report.smallSeq).toBe((report.committed as number) + 1);
    expect(report.reopenedPending).toBe((report.committed as number) + 1);
  });
});
