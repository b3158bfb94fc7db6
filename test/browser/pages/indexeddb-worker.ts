/** The IndexedDB store tests' dedicated worker: runs indexeddb-harness.ts commands sent by the page. */
import { commands } from "./indexeddb-harness.js";

interface Request {
  id: number;
  command: string;
  args: unknown;
}

const scope = self as unknown as { onmessage: ((event: MessageEvent<Request>) => void) | null; postMessage(message: unknown): void };

scope.onmessage = ({ data }) => {
  const run = commands[data.command];
  const emit = (event: Record<string, unknown>) => scope.postMessage({ event });
  if (run === undefined) {
    scope.postMessage({ id: data.id, error: { name: "Error", message: `no command ${data.command}` } });
    return;
  }
  run(data.args, emit).then(
    (value) => scope.postMessage({ id: data.id, value }),
    (error: unknown) => scope.postMessage({ id: data.id, error: { name: String((error as Error)?.name), message: String((error as Error)?.message ?? error) } }),
  );
};
