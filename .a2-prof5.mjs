import { generate } from "./dist/generator/index.js";
import { Project } from "ts-morph";
const orig = Project.prototype.getProgram;
let n = 0;
Project.prototype.getProgram = function () { n++; return orig.call(this); };
for (let i = 0; i < 3; i++) {
  n = 0;
  const r = await generate({ cwd: "/tmp/a2/corpus", check: true });
  console.log(n, JSON.stringify(Object.fromEntries(Object.entries(r.timings).map(([k, v]) => [k, Math.round(v)]))));
}
