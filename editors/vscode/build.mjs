// Bundles the extension into dist/extension.cjs with esbuild: one CommonJS file (VS Code 1.91
// loads an extension's `main` with require(); the sources are ES modules like the rest of the
// repository), holding vscode-languageclient, so the .vsix needs no node_modules. `vscode` stays external: the extension host provides it at run time.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));

await build({
  absWorkingDir: root,
  entryPoints: ["src/extension.ts"],
  outfile: "dist/extension.cjs",
  bundle: true,
  format: "cjs",
  platform: "node",
  // VS Code 1.91 (engines.vscode) runs extensions on Node 20.
  target: "node20",
  external: ["vscode"],
  sourcemap: true,
  logLevel: "warning",
});
