/**
 * A two-million-document backlog costs disk, not memory: a child process queues it, reopens
 * and uploads part of it, and reports its peak RSS. Needs `npm run build`.
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
    const out = execFileSync(process.execPath, [path.join(here, "children", "queue-backlog-child.mjs"), dir, "2000000"], { encoding: "utf8" });
    const report = JSON.parse(out.trim()) as { pending: number; read: number; ordered: boolean; pendingAfter: number; maxRss: number; seconds: number };
    console.log(`backlog: ${JSON.stringify(report)}`);
    expect(report.pending).toBe(2_000_000);
    expect(report.ordered).toBe(true);
    expect(report.pendingAfter).toBe(2_000_000 - report.read);
    expect(report.maxRss).toBeLessThan(150 * 1024 * 1024);
  });
});
