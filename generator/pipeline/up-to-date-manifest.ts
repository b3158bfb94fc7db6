/**
 * The up-to-date manifest: what lets a one-shot `generate()` with nothing changed answer "all
 * outputs unchanged" without building the TypeScript program (the way tsc's .tsbuildinfo lets
 * `tsc -b` skip a project). Building and analysing the program is nearly all of a run's time.
 *
 * After a successful full run (not `check`), the manifest records, in the cache folder:
 * - the run's identity: working folder, tsconfig path, the paths given, out-dir, schema-out, the
 *   effective compiler options, the input set (tsconfig files or glob expansion), the @types
 *   packages TypeScript would include on its own, and the versions that shape output (asymgen
 *   plus a stat fingerprint of its own generator/ and templates/ code, TypeScript, prettier);
 * - every file the program read (inputs, imported files, .d.ts files in node_modules; not
 *   TypeScript's built-in libs, which come with its version) with size, mtime and content hash;
 * - what module resolution looked at: package.json files that decided a resolution or a file's
 *   module format (recorded like sources, with their real path, so a retargeted link counts), and
 *   every location it probed and found empty (which must still be empty: a file appearing there
 *   would change what an import resolves to);
 * - every output (generated files, the schema file) with the hash of its bytes and, for
 *   generated files, the hash of the prettier options resolved for it; and the output path of
 *   each input without models (absent, or the hash of the hand-written file that sits there);
 * - the run's warnings and counts, to report them again.
 *
 * The next `generate()` takes the shortcut only when the identity is equal, every recorded file
 * is unchanged, every probed location is still empty, and every output still has its recorded
 * hash (so `--check` answers from verified bytes). Any doubt (no manifest, an unreadable one, a
 * file that cannot be stat'ed, an internal TypeScript API missing) means a full run; a stale
 * manifest can never be trusted by mistake because all of it is verified on every use.
 *
 * Why stat, then hash: a stat is ~100× cheaper than reading and hashing, and equal size and
 * mtime mean unchanged on any sane file system, so that is the fast path. A different mtime
 * (a `touch`, a checkout that rewrote the same bytes) is no proof of change, so the content hash
 * decides. Timestamps are coarse on some file systems (1–2 s), so a file whose recorded mtime is
 * within that window of the recording run's start could have been rewritten without an mtime
 * change ("racily clean", as git calls it): such files are always hashed. When recording, each
 * file is read again and compared with the text the program actually analysed; a file that
 * changed during the run leaves no manifest at all.
 *
 * Known limits, as with tsc: a change that touches none of the recorded files, probes or options
 * (an environment variable, a new global `@types` folder while `types` is set explicitly, which
 * does not matter then) is not seen; `generate({ force: true })` (or deleting the cache folder)
 * runs in full. Only `generate()` takes the shortcut: a session (watch mode) needs the program
 * loaded anyway, but its full runs record a manifest too.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import path from "node:path";
import { writeFileAtomically } from "asymgen/node/files";
import type { Diagnostic } from "../diagnostics/diagnostic.js";

/** Bumped whenever the manifest's shape or meaning changes: older manifests are then ignored. */
export const MANIFEST_FORMAT = 1;

/** How close to the recording run's start an mtime must be to be hashed anyway (coarse clocks). */
export const RACY_WINDOW_MS = 2000;

/** A file whose bytes matter, as it was when recorded. */
export interface RecordedFile {
  path: string;
  size: number;
  mtimeMs: number;
  /** sha256 of the bytes. */
  hash: string;
  /** The real path when it differs from `path` (a file reached through a symlink). */
  realPath?: string;
}

/** An output the run produced or left in place. */
export interface RecordedOutput {
  file: string;
  /** The model file it comes from; absent for the schema file. */
  source?: string;
  hash: string;
  /** Hash of the prettier options resolved for it (generated files only). */
  prettier?: string;
}

/** The output path of an input without models: absent (`hash` null) or a hand-written file. */
export interface GuardedPath {
  file: string;
  hash: string | null;
}

/** The manifest as stored. */
export interface UpToDateManifest {
  format: number;
  identity: string;
  /** `Date.now()` when the recorded run started, before it read any file. */
  startedAt: number;
  files: RecordedFile[];
  /** Locations module resolution probed and found empty. */
  missing: string[];
  outputs: RecordedOutput[];
  guarded: GuardedPath[];
  diagnostics: Diagnostic[];
  models: number;
  inputs: number;
}

/** The manifest file for one invocation (working folder and output-shaping options). */
export function resolveManifestPath(cacheDir: string, location: unknown): string {
  return path.join(cacheDir, `up-to-date-${hashText(stableStringify(location)).slice(0, 16)}.json`);
}

/** Reads a manifest; undefined when absent, unreadable or of another format. */
export function readManifest(file: string): UpToDateManifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(file, "utf8")) as UpToDateManifest;
    return manifest.format === MANIFEST_FORMAT && Array.isArray(manifest.files) && Array.isArray(manifest.outputs) ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** How many manifests a cache folder keeps (one per invocation: working folder and options). */
export const MANIFESTS_KEPT = 100;

const MANIFEST_NAME = /^up-to-date-[0-9a-f]{16}\.json$/;

/** Writes a manifest atomically; a cache that cannot be written only costs the shortcut. */
export function writeManifest(file: string, manifest: UpToDateManifest): void {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    // A cache: atomic for a concurrent reader, not durable (a lost manifest costs one full run).
    writeFileAtomically(file, JSON.stringify(manifest), { durable: false });
  } catch {
    return;
  }
  pruneManifests(path.dirname(file));
}

/**
 * Keeps the newest MANIFESTS_KEPT manifests of a folder. A shared cache folder (the user's, for
 * projects without node_modules) gets one per project folder ever generated, temporary ones
 * included; losing an old one only costs one full run.
 */
function pruneManifests(folder: string): void {
  try {
    const names = readdirSync(folder).filter((name) => MANIFEST_NAME.test(name));
    if (names.length <= MANIFESTS_KEPT) return;
    const aged = names.flatMap((name) => {
      try {
        return [{ file: path.join(folder, name), mtimeMs: statSync(path.join(folder, name)).mtimeMs }];
      } catch {
        return [];
      }
    });
    aged.sort((a, b) => b.mtimeMs - a.mtimeMs);
    for (const { file } of aged.slice(MANIFESTS_KEPT)) unlinkSync(file);
  } catch {
    // Another process pruned first, or the folder is read-only: nothing to do.
  }
}


/** sha256 (hex) of bytes or text. */
export function hashText(content: string | Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/** JSON with object keys sorted at every level, so equal values always give equal text. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner;
    return Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
