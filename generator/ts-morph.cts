/**
 * ts-morph's values, for the generator's ES modules to import from here instead of "ts-morph".
 *
 * Why a CommonJS file: ts-morph is CommonJS, and Node's `import` of a CommonJS package costs far
 * more than `require()`: Node 20 compiles ts-morph.js (1 MB) once more to see whether it is
 * ESM (its package.json names no "type") and scans it for export names, on top of loading it.
 * Measured on the bench corpus, ~130 ms of a cold `asymgen generate` (~2.0 s) on a quiet machine.
 * This file compiles to `require("ts-morph")` plus named exports Node finds by scanning these
 * few lines. Types may still come from "ts-morph" directly (`import type` is erased).
 *
 * Every value the generator uses is listed by name, never re-exported wholesale: Node would
 * follow `module.exports = require("ts-morph")` into ts-morph.js and scan it after all.
 */
import tsMorph = require("ts-morph");

// For Node, which finds a CommonJS module's export names by scanning its text for `exports.x =`:
// the names the generator imports (`export =` below replaces this object; the values are the same).
exports.FileSystemRefreshResult = tsMorph.FileSystemRefreshResult;
exports.ModuleKind = tsMorph.ModuleKind;
exports.ModuleResolutionKind = tsMorph.ModuleResolutionKind;
exports.Project = tsMorph.Project;
exports.ScriptTarget = tsMorph.ScriptTarget;
exports.ts = tsMorph.ts;

// For TypeScript: everything ts-morph declares, values, types and namespaces alike.
export = tsMorph;
