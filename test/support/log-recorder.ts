/**
 * A server logger that keeps the messages it is given, so that a test can wait for what the
 * server says it did ("batch received") instead of sleeping a guess: on a loaded CI machine
 * a request can take longer to reach the server than any fixed sleep allows for.
 */
import type { Logger } from "../../server/logger.js";

export interface LogRecorder {
  /** Pass as the server's `logger` (with `quiet` unset: `quiet` would silence it). */
  logger: Logger;
  /** How many times `msg` was logged so far. */
  count(msg: string): number;
  /** Resolves once `msg` was logged `times` times; rejects after `timeoutMs`. */
  until(msg: string, times?: number, timeoutMs?: number): Promise<void>;
}

export function recordLog(): LogRecorder {
  const messages: string[] = [];
  const count = (msg: string) => messages.filter((m) => m === msg).length;
  return {
    logger: { log: (_level, msg) => void messages.push(msg) },
    count,
    async until(msg, times = 1, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (count(msg) < times) {
        if (Date.now() > deadline) throw new Error(`the server did not log "${msg}" ${times} time(s) within ${timeoutMs} ms (logged: ${messages.join(", ")})`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}
