// Rewrites the code table in README.md's "Diagnostics" section (between its markers) from
// generator/diagnostics/codes.ts, via the build in dist/ (`npm run docs:diagnostics` builds first).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { replaceCodeTable } from "../generator/dist/generator/diagnostics/render-code-table.js";

const readme = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "README.md");
const before = fs.readFileSync(readme, "utf8");
const after = replaceCodeTable(before);
if (after === before) console.log("README.md: the diagnostics table is up to date");
else {
  fs.writeFileSync(readme, after);
  console.log("README.md: rewrote the diagnostics table");
}
