/**
 * Spawning the real `asymgen serve` process (the compiled CLI under dist/; run `npm run build`
 * first) and reading its stdout line by line.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sharedTestSecret } from "./ingest-server-fixtures.js";

/** The compiled CLI. */
export const cliPath = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../generator/dist/generator/cli.js");

/** A child's stdout lines, and a way to wait for one. */
export interface LineWatcher {
  lines: string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Collects a child's stdout lines. */
export function watchLines(child: ChildProcess): LineWatcher {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      lines.push(line);
      for (const waiter of [...waiters]) {
        const match = line.match(waiter.pattern);
        if (match) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match);
        }
      }
    }
  });
  return {
    lines,
    waitFor(pattern, timeoutMs = 20_000) {
      for (const line of lines) {
        const match = line.match(pattern);
        if (match) return Promise.resolve(match);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} in:\n${lines.join("\n")}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        });
      });
    },
  };
}

/** A spawned server. */
export interface SpawnedServer {
  child: ChildProcess;
  url: string;
  out: LineWatcher;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/**
 * Spawns `asymgen serve` with `args` (after `serve`) and `env` added, and waits until it listens.
 * The test-only hooks (ASYMGEN_FAULT_CRASH*, ASYMGEN_TEST_COMMIT_DELAY_MS) are switched on with
 * ASYMGEN_ENABLE_TEST_HOOKS=1 unless `env` overrides it.
 */
export async function spawnIngestServer(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<SpawnedServer> {
  if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run npm run build first`);
  const child = spawn(process.execPath, [cliPath, "serve", ...args], {
    cwd,
    // One secret for every server a test starts (ASYMGEN_SECRET: "" to use a key file instead).
    env: { ...process.env, ASYMGEN_ENABLE_TEST_HOOKS: "1", ASYMGEN_SECRET: sharedTestSecret, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const out = watchLines(child);
  const match = await Promise.race([
    out.waitFor(/listening on (https?:\/\/\S+)/),
    exited.then(({ code }) => {
      throw new Error(`asymgen serve exited (${code}) before listening: ${stderr}`);
    }),
  ]);
  return { child, url: match[1] ?? "", out, exited, stderr: () => stderr };
}
