/**
 * A `LogStore` held in memory, NOT durable: for tests that run the browser queue's owner on Node
 * (test/browser/realm-queue-owner.test.ts). Browsers use the OPFS and IndexedDB stores
 * (runtime/browser/open-browser-log-store.ts).
 */
import type { LogFile, LogStore } from "../../runtime/queue/log-store.js";

/** One file's bytes, shared by every handle open on it. */
interface MemoryFile {
  bytes: Uint8Array;
  size: number;
}

/**
 * A store of files in memory, with no lock: `openMemoryLogStore` adds the queue's Web Lock.
 * Exported for tests that run the queue on Node.
 */
export function createMemoryLogStore(location: string, onClose: () => void = () => undefined): LogStore {
  const files = new Map<string, MemoryFile>();
  let closed = false;
  const fileOrThrow = (name: string): MemoryFile => {
    const file = files.get(name);
    if (file === undefined) throw Object.assign(new Error(`${location}/${name} does not exist`), { code: "ENOENT" });
    return file;
  };
  return {
    location,
    pathOf: (name) => `${location}/${name}`,
    list: () => [...files.keys()],
    open: (name) => openMemoryFile(fileOrThrow(name)),
    create(name, content) {
      const file: MemoryFile = { bytes: content.slice(), size: content.length };
      files.set(name, file);
      return openMemoryFile(file);
    },
    remove(names) {
      for (const name of names) files.delete(name);
    },
    readFile(name) {
      const file = files.get(name);
      return file === undefined ? null : file.bytes.slice(0, file.size);
    },
    writeFileAtomically(name, content) {
      files.set(name, { bytes: content.slice(), size: content.length });
    },
    close() {
      if (closed) return;
      closed = true;
      onClose();
    },
  };
}

function openMemoryFile(file: MemoryFile): LogFile {
  return {
    size: () => file.size,
    read(into, offset, length, position) {
      const count = Math.max(0, Math.min(length, file.size - position));
      into.set(file.bytes.subarray(position, position + count), offset);
      return count;
    },
    write(data, offset, length, rest, position) {
      const end = position + length + (rest?.length ?? 0);
      ensureCapacity(file, end);
      // A gap after the end reads as zeros, as in a file (the stale bytes of a cut are not data).
      if (position > file.size) file.bytes.fill(0, file.size, position);
      file.bytes.set(data.subarray(offset, offset + length), position);
      if (rest !== null) file.bytes.set(rest, position + length);
      file.size = Math.max(file.size, end);
    },
    truncate(size) {
      ensureCapacity(file, size);
      // Bytes past the old end read as zeros, as a file extended by truncate does.
      if (size > file.size) file.bytes.fill(0, file.size, size);
      file.size = size;
    },
    // Nothing to sync: memory is all there is (the module comment says what that means).
    syncData: () => undefined,
    syncAll: () => undefined,
    syncInBackground: () => Promise.resolve(),
    close: () => undefined,
  };
}

function ensureCapacity(file: MemoryFile, size: number): void {
  if (size <= file.bytes.length) return;
  const grown = new Uint8Array(Math.max(size, file.bytes.length * 2));
  grown.set(file.bytes.subarray(0, file.size));
  file.bytes = grown;
}
