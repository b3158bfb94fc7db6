/**
 * Starts `asymgen serve` (the built CLI) as a child process, as a user would run it, and reads
 * its address from the "listening" line, so the demo can pick a free port.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/** A running `asymgen serve` process. */
export interface ServerProcessHandle {
  url: string;
  port: number;
  /** Everything the server printed. */
  log(): string;
  /** Asks for a graceful shutdown (SIGTERM: in-flight batches finish) and waits for the exit. */
  stop(): Promise<void>;
}

/** Runs `asymgen serve <args> --port 0` and resolves once it listens. */
export async function startServerProcess(args: string[]): Promise<ServerProcessHandle> {
  // Compiled to build/demo/; the `asymgen` bin is @asymgen/generator's (generator/dist/).
  const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "generator", "dist", "generator", "cli.js");
  const child = spawn(process.execPath, [cli, "serve", ...args, "--host", "127.0.0.1", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const listening = /listening on (http:\/\/[^\s]+:(\d+))/.exec(output.join(""));
    if (listening) {
      return {
        url: listening[1]!,
        port: Number(listening[2]),
        log: () => output.join(""),
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          await exited;
        },
      };
    }
    if (child.exitCode !== null) throw new Error(`asymgen serve exited with ${child.exitCode}:\n${output.join("")}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill("SIGKILL");
  throw new Error(`asymgen serve did not start within 20 s:\n${output.join("")}`);
}
