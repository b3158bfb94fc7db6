/**
 * A two-million-document backlog costs disk, not memory: a child process queues it, reopens
 * and uploads part of it, and reports its peak RSS (`process.resourceUsage().maxRSS`, the
 * kernel's high-water mark, so no short peak is missed). Needs `npm run build`.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-backlog-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("queue backlog", () => {
  it("keeps RSS under 150 MB with 2 000 000 documents queued", () => {
    // Through a shell that forks the child rather than exec'ing it: Linux carries ru_maxrss
    // across execve, so a child exec'ed straight from this (large) jest worker would report the
    // worker's peak, not its own.
    const child = path.join(here, "children", "queue-backlog-child.mjs");
    const out = execFileSync("/bin/sh", ["-c", '"$0" "$@"; exit $?', process.execPath, child, dir, "2000000"], { encoding: "utf8" });
    const report = JSON.parse(out.trim()) as {
      pending: number;
      read: number;
      ordered: boolean;
      pendingAfter: number;
      maxRssKiB: number;
      vmHwmKiB: number | null;
      seconds: number;
    };
    console.log(`backlog: ${JSON.stringify(report)}`);
    expect(report.pending).toBe(2_000_000);
    expect(report.ordered).toBe(true);
    expect(report.pendingAfter).toBe(2_000_000 - report.read);
    expect(report.maxRssKiB).toBeGreaterThan(10 * 1024); // a real measurement, not a zero
    expect(report.maxRssKiB * 1024).toBeLessThan(150 * 1024 * 1024);
    if (report.vmHwmKiB !== null) expect(report.vmHwmKiB * 1024).toBeLessThan(150 * 1024 * 1024);
  });
});
