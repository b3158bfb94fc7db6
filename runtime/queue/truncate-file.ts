/**
 * Cuts a file to `size` bytes and makes the cut durable before returning: recovery and repair
 * both shorten segments they do not hold open, and a cut that a crash could undo would bring
 * the damaged bytes back.
 */
import type { LogStore } from "./log-store.js";

/** Truncates file `name` of `store` to `size` bytes and syncs it, size included. */
export function truncateFileDurably(store: LogStore, name: string, size: number): void {
  const file = store.open(name);
  try {
    file.truncate(size);
    file.syncAll();
  } finally {
    file.close();
  }
}
