/**
 * Document URIs and file paths. The session works with absolute paths; the client names documents
 * by URI. A URI the client sent is answered with the same string (clients compare URIs as text,
 * and encodings differ: `file:///c%3A/…`), any other file gets node's `file:` URL.
 */
import { fileURLToPath, pathToFileURL } from "node:url";

/** Maps between the client's URIs and absolute paths, remembering the client's spelling. */
export class DocumentPaths {
  private readonly uriByPath = new Map<string, string>();

  /** The absolute path of a `file:` URI, or undefined for other schemes (`untitled:`, `git:`). */
  toPath(uri: string): string | undefined {
    if (!uri.startsWith("file:")) return undefined;
    try {
      const file = fileURLToPath(uri);
      this.uriByPath.set(file, uri);
      return file;
    } catch {
      return undefined;
    }
  }

  /** The URI to publish for `file`: the client's own when it sent one. */
  toUri(file: string): string {
    return this.uriByPath.get(file) ?? pathToFileURL(file).href;
  }
}
