/**
 * Document URIs and file paths. The session and every span name a file by TypeScript's normal
 * form (forward slashes: `c:/p/m.ts` on Windows, where node's own paths read `c:\p\m.ts`), so a
 * client's URI becomes that same form here, and every map the server keeps is keyed by it: two
 * spellings of one file would miss lookups and publish an empty set over the real one.
 * A URI the client sent is answered with the same string (clients compare URIs as text, and
 * encodings differ: `file:///c%3A/…`), any other file gets node's `file:` URL.
 */
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The platform whose paths the URIs name (tests pass "win32" to check Windows on any machine). */
export type PathPlatform = "posix" | "win32";

const hostPlatform: PathPlatform = process.platform === "win32" ? "win32" : "posix";

/** The normal form of an absolute path on `platform`: resolved, with TypeScript's forward slashes (as ts-morph spells it). */
export function normalizeFilePath(file: string, platform: PathPlatform = hostPlatform): string {
  // ts.normalizePath does the same but is not in TypeScript's public declarations.
  return platform === "win32" ? path.win32.resolve(file).replaceAll("\\", "/") : path.posix.resolve(file);
}

/** Maps between the client's URIs and normal-form paths, remembering the client's spelling. */
export class DocumentPaths {
  private readonly uriByPath = new Map<string, string>();

  constructor(private readonly platform: PathPlatform = hostPlatform) {}

  /** The normal-form path of a `file:` URI, or undefined for other schemes (`untitled:`, `git:`). */
  toPath(uri: string): string | undefined {
    if (!uri.startsWith("file:")) return undefined;
    try {
      const file = normalizeFilePath(fileURLToPath(uri, { windows: this.platform === "win32" }), this.platform);
      this.uriByPath.set(file, uri);
      return file;
    } catch {
      return undefined;
    }
  }

  /** The normal form of `file` (a span's, a URI's, node's spelling): the key of every per-file map. */
  normalize(file: string): string {
    return normalizeFilePath(file, this.platform);
  }

  /** The URI to publish for `file` (any spelling of it): the client's own when it sent one. */
  toUri(file: string): string {
    const normal = this.normalize(file);
    return this.uriByPath.get(normal) ?? pathToFileURL(normal, { windows: this.platform === "win32" }).href;
  }
}
