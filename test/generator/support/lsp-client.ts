/**
 * Test support: `asymgen lsp --stdio` as an editor runs it, a child process spoken to over
 * JSON-RPC on its stdin/stdout, with every publishDiagnostics it sends kept for the test to wait on.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  createProtocolConnection,
  PublishDiagnosticsNotification,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
  type PublishDiagnosticsParams,
} from "vscode-languageserver-protocol/node";
import { repoRoot } from "./create-workspace.js";

/** The compiled CLI (`npm run build` first). */
export const cliPath = path.join(repoRoot, "generator/dist/generator/cli.js");

/** A running server and the client side of its connection. */
export interface LspClient {
  child: ChildProcess;
  connection: ProtocolConnection;
  /** Every publish received, in order. */
  publishes: PublishDiagnosticsParams[];
  /** Every window/showMessage text received, in order. */
  messages: string[];
  /** What the server wrote to stderr. */
  stderr(): string;
  /** The file: URI of an absolute path, as the client sends it. */
  uri(file: string): string;
  /** Resolves with the first publish for `uri`, from index `since` of `publishes` on, that `accept` takes. */
  waitForPublish(uri: string, accept: (params: PublishDiagnosticsParams) => boolean, since?: number): Promise<PublishDiagnosticsParams>;
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
}

/** Spawns the server in `root` and runs the initialize handshake. */
export async function startLspClient(root: string, initializationOptions: Record<string, unknown> = {}): Promise<LspClient> {
  const child = spawn(process.execPath, [cliPath, "lsp", "--stdio"], { cwd: root, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const publishes: PublishDiagnosticsParams[] = [];
  const waiters = new Set<() => void>();
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    publishes.push(params);
    for (const wake of [...waiters]) wake();
  });
  // The server asks to register its file watchers; a real client says yes.
  connection.onRequest("client/registerCapability", () => null);
  connection.onNotification("window/logMessage", () => undefined);
  const messages: string[] = [];
  connection.onNotification("window/showMessage", (params: { message: string }) => void messages.push(params.message));
  connection.onRequest("window/showMessageRequest", () => null);
  connection.listen();
  const rootUri = pathToFileURL(root).href;
  await connection.sendRequest("initialize", {
    processId: process.pid,
    rootUri,
    workspaceFolders: [{ uri: rootUri, name: path.basename(root) }],
    capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } }, textDocument: { publishDiagnostics: { versionSupport: true, relatedInformation: true } } },
    initializationOptions,
  });
  await connection.sendNotification("initialized", {});
  return {
    child,
    connection,
    publishes,
    messages,
    stderr: () => stderr,
    uri: (file) => pathToFileURL(file).href,
    exited,
    waitForPublish(uri, accept, since = 0) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = publishes.slice(since).find((params) => params.uri === uri && accept(params));
          if (found === undefined) return false;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`no matching publish for ${uri} within 20 s; got ${JSON.stringify(publishes.filter((p) => p.uri === uri).slice(-3))}\nstderr: ${stderr}`));
        }, 20_000);
        waiters.add(wake);
        check();
      });
    },
  };
}

/** Sends shutdown and exit; resolves with the exit code. */
export async function stopLspClient(client: LspClient): Promise<number | null> {
  await client.connection.sendRequest("shutdown");
  await client.connection.sendNotification("exit");
  const code = await client.exited;
  client.connection.dispose();
  return code;
}
