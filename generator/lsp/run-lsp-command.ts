/**
 * `asymgen lsp --stdio`: the language server over stdin/stdout. stdout carries the protocol, so
 * anything else that would print there (a stray console.log) goes to stderr instead.
 */
import { ConnectionError } from "vscode-languageserver/node";
import { renderInternalError } from "../cli/render-internal-error.js";
import { createLanguageServer } from "./create-language-server.js";

/** Runs the server until the client ends it (exit notification or closed stdin): exit code 0 after shutdown, else 1. */
export function runLspCommand(): void {
  // One byte on stdout that is not a protocol message breaks the client's reader.
  console.log = console.error;
  console.info = console.error;
  process.on("uncaughtException", (error) => {
    // The client went away (stdin closed) while the protocol library still had something to
    // log: nothing is left to talk to, so end as a lost client ends, without a stack trace.
    if (!(error instanceof ConnectionError)) process.stderr.write(renderInternalError(error));
    process.exit(1);
  });
  const server = createLanguageServer({ input: process.stdin, output: process.stdout });
  // The client is gone without an exit notification: exit as the protocol says for exit.
  process.stdin.on("end", () => process.exit(server.shutdownReceived() ? 0 : 1));
}
