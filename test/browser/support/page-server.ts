/**
 * The test pages' web server: plain HTTP on 127.0.0.1 (a secure context for the browser, as OPFS
 * and Web Locks require), serving files from memory, and TypeScript entries bundled for the
 * browser by esbuild (ES modules; a worker entry is bundled the same way and started by URL).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** A file the server answers with. */
export interface PageFile {
  contentType: string;
  body: string | Uint8Array;
}

/** A running page server. */
export interface PageServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly origin: string;
  /** Adds or replaces the file at `urlPath` (e.g. "/index.html"). */
  put(urlPath: string, file: PageFile): void;
  close(): Promise<void>;
}

/** An HTML page. */
export function html(body: string): PageFile {
  return { contentType: "text/html; charset=utf-8", body };
}

/** A JavaScript module. */
export function script(body: string): PageFile {
  return { contentType: "text/javascript; charset=utf-8", body };
}

/**
 * `entry` (a path from the repository root, TypeScript or JavaScript) bundled into one browser ES
 * module: "asymgen" resolves to the runtime's browser entry, as a bundler picks its "browser"
 * condition.
 */
export async function bundle(entry: string): Promise<PageFile> {
  const result = await build({
    entryPoints: [path.join(repoRoot, entry)],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    write: false,
    sourcemap: "inline",
    conditions: ["browser"],
    alias: { asymgen: path.join(repoRoot, "runtime/browser/index.ts") },
    logLevel: "silent",
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  return script(output.text);
}

/** Starts a server on a free loopback port. */
export async function startPageServer(): Promise<PageServer> {
  const files = new Map<string, PageFile>();
  const server = http.createServer((req, res) => {
    const urlPath = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const file = files.get(urlPath);
    if (!file || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": file.contentType, "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    put(urlPath, file) {
      files.set(urlPath, file);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
