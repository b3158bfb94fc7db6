#!/usr/bin/env node
// A minimal language server for the client-side test of the VS Code extension (run as its
// `asymgen.path`): answers initialize, publishes one diagnostic for each opened document, and
// exits 0 after shutdown + exit as the protocol asks. It proves what the client sends and does,
// independently of asymgen's own server (tested against the bundle separately).
import process from "node:process";

// As an @asymgen/generator from before `asymgen lsp` answers (yargs' usage error, exit code 2).
if (process.env.MINIMAL_LSP_SERVER_AS_OLD_CLI === "1") {
  process.stderr.write("asymgen: Unknown arguments: stdio, lsp\n");
  process.exit(2);
}

if (process.argv[2] !== "lsp" || process.argv[3] !== "--stdio") {
  process.stderr.write(`minimal-lsp-server: expected "lsp --stdio", got ${JSON.stringify(process.argv.slice(2))}\n`);
  process.exit(2);
}

const send = (message) => {
  const body = Buffer.from(JSON.stringify({ jsonrpc: "2.0", ...message }), "utf8");
  process.stdout.write(`Content-Length: ${body.length}\r\n\r\n`);
  process.stdout.write(body);
};

let shutDown = false;
let buffer = Buffer.alloc(0);
process.stdin.on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const headerEnd = buffer.indexOf("\r\n\r\n");
    if (headerEnd < 0) return;
    const length = Number(/Content-Length: (\d+)/i.exec(buffer.subarray(0, headerEnd).toString("ascii"))?.[1]);
    if (buffer.length < headerEnd + 4 + length) return;
    const message = JSON.parse(buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString("utf8"));
    buffer = buffer.subarray(headerEnd + 4 + length);
    handle(message);
  }
});

function handle(message) {
  switch (message.method) {
    case "initialize":
      send({ id: message.id, result: { capabilities: { textDocumentSync: 1, hoverProvider: true }, serverInfo: { name: "minimal-lsp-server" } } });
      return;
    case "textDocument/didOpen":
      send({
        method: "textDocument/publishDiagnostics",
        params: { uri: message.params.textDocument.uri, diagnostics: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, message: "from the minimal server", code: "TEST1", source: "minimal-lsp-server" }] },
      });
      return;
    case "shutdown":
      shutDown = true;
      send({ id: message.id, result: null });
      return;
    case "exit":
      process.exit(shutDown ? 0 : 1);
      return;
    default:
      // Requests this server does not know get the protocol's MethodNotFound; notifications nothing.
      if (message.id !== undefined && message.method !== undefined) send({ id: message.id, error: { code: -32601, message: `not handled: ${message.method}` } });
  }
}
