/**
 * How the client starts the language server: the bin with `lsp --stdio`, in the workspace
 * folder. No `vscode` import, so a test can check it without VS Code.
 */
import type { Executable } from "vscode-languageclient/node";

/** The command line the asymgen language server speaks LSP on (stdin/stdout). */
export const ASYMGEN_LSP_ARGS: readonly string[] = ["lsp", "--stdio"];

/** Server options for `bin` run in `folder`. */
export function createServerOptions(bin: string, folder: string, platform: NodeJS.Platform = process.platform): Executable {
  // The arguments are given here, not through `transport: TransportKind.stdio`, which would append
  // a second `--stdio` (and, for node modules, a --clientProcessId the CLI does not declare).
  const options: Executable["options"] = { cwd: folder };
  // Node refuses to spawn a .cmd shim without a shell (CVE-2024-27980); npm's bins on Windows are
  // .cmd. The shell gets one command line, so a path with spaces ("C:\Users\A B\…") is quoted.
  if (platform === "win32" && bin.toLowerCase().endsWith(".cmd")) {
    options.shell = true;
    return { command: `"${bin}"`, args: [...ASYMGEN_LSP_ARGS], options };
  }
  return { command: bin, args: [...ASYMGEN_LSP_ARGS], options };
}
