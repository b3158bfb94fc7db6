/**
 * `asymgen lsp --stdio`: the language server over stdin/stdout. stdout carries the protocol, so
 * anything else that would print there (a stray console.log) goes to stderr instead.
 */
import { createLanguageServer } from "./create-language-server.js";

/** Runs the server until the client ends it; the connection exits the process itself (0 after shutdown, else 1). */
export function runLspCommand(): void {
  // One byte on stdout that is not a protocol message breaks the client's reader.
  console.log = console.error;
  console.info = console.error;
  createLanguageServer({ input: process.stdin, output: process.stdout });
}
