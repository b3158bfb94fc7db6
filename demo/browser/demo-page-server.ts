/**
 * The browser demo's web server: serves the page and its bundles from memory on
 * http://127.0.0.1:<port> (a secure context, as OPFS and Web Locks need), the page's settings at
 * /demo-config.json, and at /stored the number of documents the ingest server's SQLite file holds:
 * `asymgen serve` has no count endpoint, and a count read from the database itself is the proof
 * the page's counters are not the client's own bookkeeping.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import Database from "better-sqlite3";

/** A file the server answers with. */
export interface DemoFile {
  contentType: string;
  body: string | Uint8Array;
}

/** The running page server. */
export interface DemoPageServer {
  /** `http://127.0.0.1:<port>`: the page's origin, the one `--cors-origin` names. */
  readonly origin: string;
  /** Adds or replaces the file at `urlPath`. */
  put(urlPath: string, file: DemoFile): void;
  /** From now on, /stored counts the rows of `tables` in the SQLite file at `sqlitePath`. */
  countStoredRows(sqlitePath: string, tables: readonly string[]): void;
  close(): Promise<void>;
}

/** Starts the server on `port` of 127.0.0.1 (0: a free one). */
export async function startDemoPageServer(port = 0): Promise<DemoPageServer> {
  const files = new Map<string, DemoFile>();
  let countRows: (() => number) | null = null;
  let database: Database.Database | null = null;
  const server = http.createServer((req, res) => {
    const urlPath = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain" }).end("GET only");
      return;
    }
    if (urlPath === "/stored") {
      if (countRows === null) {
        res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: "the ingest server is not started yet" }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify({ stored: countRows() }));
      return;
    }
    const file = files.get(urlPath === "/" ? "/index.html" : urlPath);
    if (!file) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": file.contentType, "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${bound}`,
    put(urlPath, file) {
      files.set(urlPath, file);
    },
    countStoredRows(sqlitePath, tables) {
      // Read-only, beside the server's own connection: the store runs SQLite in WAL mode, where a
      // reader sees the last committed transaction and never blocks the writer.
      database = new Database(sqlitePath, { readonly: true, fileMustExist: true });
      const statements = tables.map((table) => database!.prepare(`SELECT count(*) AS n FROM "${table.replaceAll('"', '""')}"`));
      countRows = () => statements.reduce((sum, statement) => sum + (statement.get() as { n: number }).n, 0);
    },
    close() {
      server.closeAllConnections();
      database?.close();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
