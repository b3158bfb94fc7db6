/**
 * The IndexedDB store tests' page: `inWorker(command, args)` runs a harness command in a
 * dedicated worker (started once), `inWindow(command, args)` in the page itself; events (a
 * burst's durable transactions) go to `window.reportEvent`, which the test exposes.
 */
import { commands } from "./indexeddb-harness.js";

type Page = {
  inWorker(command: string, args: unknown): Promise<unknown>;
  inWindow(command: string, args: unknown): Promise<unknown>;
  reportEvent?: (event: Record<string, unknown>) => void;
  ready: boolean;
};
const page = window as unknown as Page;

const worker = new Worker("/indexeddb-worker.js", { type: "module" });
let nextId = 1;
const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
worker.onmessage = ({ data }: MessageEvent<{ id?: number; value?: unknown; error?: { name: string; message: string }; event?: Record<string, unknown> }>) => {
  if (data.event !== undefined) {
    page.reportEvent?.(data.event);
    return;
  }
  const pending = waiting.get(data.id!);
  if (pending === undefined) return;
  waiting.delete(data.id!);
  if (data.error !== undefined) pending.reject(Object.assign(new Error(data.error.message), { name: data.error.name }));
  else pending.resolve(data.value);
};
worker.onerror = (event) => {
  for (const pending of waiting.values()) pending.reject(new Error(`worker error: ${event.message}`));
  waiting.clear();
};

page.inWorker = (command, args) =>
  new Promise((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve, reject });
    worker.postMessage({ id, command, args });
  });
page.inWindow = (command, args) => commands[command]!(args, (event) => page.reportEvent?.(event));
page.ready = true;
