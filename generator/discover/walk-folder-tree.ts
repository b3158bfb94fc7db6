/**
 * A bounded walk of a folder tree, skipping node_modules and hidden folders (.git…): watch mode
 * watches its folders, the bundler plugin snapshots its files. The bound keeps a path like "."
 * in a huge tree from costing thousands of watch handles or stats.
 */
import { readdirSync } from "node:fs";
import path from "node:path";

/** At most this many folders are read. */
const MAX_FOLDERS = 1000;

/** The folders of the tree below `root` (`root` first) and the files directly in them. */
export function walkFolderTree(root: string): { folders: string[]; files: string[] } {
  const folders: string[] = [];
  const files: string[] = [];
  const queue = [root];
  while (queue.length > 0 && folders.length < MAX_FOLDERS) {
    const folder = queue.shift()!;
    folders.push(folder);
    try {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        const full = path.join(folder, entry.name);
        if (!entry.isDirectory()) files.push(full);
        else if (entry.name !== "node_modules" && !entry.name.startsWith(".")) queue.push(full);
      }
    } catch {
      // Unreadable or vanished: nothing below it.
    }
  }
  return { folders, files };
}
