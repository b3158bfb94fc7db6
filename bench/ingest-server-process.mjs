// The ingest server as a child process of the built CLI (`asymgen serve`, a process of its own so
// that its CPU and RSS are its own), for the benches that measure it from outside: bench:sync
// and bench:server-cpu.
import { spawn } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "generator", "dist", "generator", "cli.js");

/** A loopback port nothing listens on. */
async function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `asymgen serve` for app "bench" on a free loopback port over `storeUrl`, with the
 * models of `schemaFile`, and waits for its /health. `nodeArgs`: flags for the server's node
 * (e.g. `--cpu-prof`). Every simulated device logs in anonymously from loopback: one address's
 * anonymous-user limit (30 per 3 minutes) would refuse the rest of a run's devices, so it is off.
 */
export async function startIngestServerProcess({ schemaFile, storeUrl, nodeArgs = [] }) {
  const port = await freePort();
  const args = ["serve", "--schema", schemaFile, "--app-id", "bench", "--port", String(port), "--store", storeUrl, "--auth-anonymous-users-per-address", "off", "--quiet"];
  const child = spawn(process.execPath, [...nodeArgs, cli, ...args], { stdio: ["ignore", "inherit", "inherit"] });
  const url = `http://127.0.0.1:${port}`;
  let exited = null;
  child.once("exit", (code, signal) => (exited = signal ?? `code ${code}`));
  // Up to ~20 s (a cold start on a loaded machine): a bench must not time a server that is not there.
  for (let i = 0; i < 400; i++) {
    if (exited !== null) throw new Error(`asymgen serve (${storeUrl}) exited before it answered /health: ${exited}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { child, url };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`asymgen serve (${storeUrl}) did not answer ${url}/health within 20 s`);
}
