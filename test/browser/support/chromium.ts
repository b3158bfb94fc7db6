/**
 * Debian's Chromium, started by the tests themselves so they can kill it: headless, on a profile
 * directory of the test's own (`--user-data-dir`), with a DevTools port the browser picks
 * (`--remote-debugging-port=0`, read back from the profile's DevToolsActivePort file), driven by
 * playwright-core over CDP. `kill()` sends SIGKILL to the browser's whole process group (its
 * renderer, GPU and storage processes die with it, as in a crash or power cut of the app); a new
 * `startChromium` on the same directory finds what the killed one left on disk.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext } from "playwright-core";

/** Where Chromium is: ASYMGEN_CHROMIUM, else Debian's. */
export const chromiumPath = process.env["ASYMGEN_CHROMIUM"] ?? "/usr/bin/chromium";

/** A Chromium process and the CDP connection to it. */
export interface RunningChromium {
  readonly browser: Browser;
  /** The profile's own context (its OPFS, IndexedDB and storage are the profile directory's). */
  readonly context: BrowserContext;
  readonly userDataDir: string;
  readonly pid: number;
  /** SIGKILL to the browser's process group; resolves once the browser process is gone. */
  kill(): Promise<void>;
  /** Closes the browser normally (pages unload, storage is written). */
  close(): Promise<void>;
}

/** Throws a message saying how to install Chromium when it is missing. */
export function assertChromiumInstalled(): void {
  if (!fs.existsSync(chromiumPath)) {
    throw new Error(`Chromium not found at ${chromiumPath}: install Debian's (apt-get install -y chromium; .ci/run does) or set ASYMGEN_CHROMIUM`);
  }
}

/** Starts Chromium on `userDataDir` (created if missing) and connects to it. */
export async function startChromium(userDataDir: string, extraArgs: readonly string[] = []): Promise<RunningChromium> {
  assertChromiumInstalled();
  fs.mkdirSync(userDataDir, { recursive: true });
  // A killed browser leaves its port file behind: remove it, so the one read is this browser's.
  const portFile = path.join(userDataDir, "DevToolsActivePort");
  fs.rmSync(portFile, { force: true });
  const args = [
    "--headless=new",
    "--remote-debugging-port=0",
    `--user-data-dir=${userDataDir}`,
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    // Root (CI) cannot use Chromium's sandbox.
    ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
    ...extraArgs,
    "about:blank",
  ];
  // Its own process group, so kill() reaches every process the browser started.
  const child = spawn(chromiumPath, args, { detached: true, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    if (stderr.length < 20_000) stderr += chunk.toString("utf8");
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let browser: Browser;
  let context: BrowserContext;
  try {
    const port = await readDevToolsPort(portFile, child, () => stderr);
    browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`);
    const found = browser.contexts()[0];
    if (!found) {
      await browser.close().catch(() => undefined);
      throw new Error("Chromium started without its default context");
    }
    context = found;
  } catch (error) {
    // Nobody gets a handle on this browser: end its process group here, or it outlives the tests.
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // Already gone.
    }
    // No pid: it never started (spawn failed), and there is no exit to wait for.
    if (child.pid !== undefined) await exited;
    throw error;
  }
  let gone = false;
  void exited.then(() => (gone = true));
  return {
    browser,
    context,
    userDataDir,
    pid: child.pid!,
    async kill() {
      if (!gone) {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await exited;
    },
    async close() {
      if (!gone) {
        await browser.close().catch(() => undefined);
        // connectOverCDP's close only disconnects: end the process too, politely first.
        try {
          process.kill(-child.pid!, "SIGTERM");
        } catch {
          // Already gone.
        }
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, "SIGKILL");
          } catch {
            // Already gone.
          }
        }, 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** The DevTools port Chromium writes to its profile once it listens; fails with its stderr if it exits first. */
async function readDevToolsPort(portFile: string, child: ChildProcess, stderr: () => string): Promise<number> {
  // 60 s: on a loaded 2-core machine (Jest workers, PostgreSQL, other Chromiums) a start took over 30 s.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`Chromium exited before listening (code ${child.exitCode}, signal ${child.signalCode}):\n${stderr().slice(-4000)}`);
    }
    try {
      const [line] = fs.readFileSync(portFile, "utf8").split("\n");
      const port = Number(line);
      if (Number.isInteger(port) && port > 0) return port;
    } catch {
      // Not written yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  try {
    process.kill(-child.pid!, "SIGKILL");
  } catch {
    // Already gone.
  }
  throw new Error(`Chromium did not report its DevTools port within 60 s:\n${stderr().slice(-4000)}`);
}
