/**
 * acquireQueueOwnership (runtime/browser/acquire-queue-ownership.ts) on Node, over a lock manager
 * that grants every request in the next task, as a browser with the lock free does: when the
 * queue's files stay busy with the lock free (OPFS NoModificationAllowedError, which the store
 * reports as QueueLockedError), the retries pause 50 ms, doubling to 1 s, instead of spinning.
 */
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { QueueLockedError } from "../../runtime/errors.js";
import { acquireQueueOwnership } from "../../runtime/browser/acquire-queue-ownership.js";
import type { WebLock, WebLockOptions } from "../../runtime/browser/web-apis.js";

/** Grants each request in the next task (the lock is always free), or rejects once its signal aborts. */
const freeLocks = {
  request<T>(name: string, options: WebLockOptions, callback: (lock: WebLock | null) => T | Promise<T>): Promise<T> {
    return new Promise<void>((resolve, reject) => {
      options.signal?.throwIfAborted();
      setTimeout(resolve, 0);
      options.signal?.addEventListener("abort", () => reject(options.signal!.reason as Error), { once: true });
    }).then(() => callback({ name }));
  },
};

describe("acquireQueueOwnership", () => {
  beforeEach(() => {
    Object.defineProperty(globalThis, "navigator", { value: { locks: freeLocks }, configurable: true, writable: true });
  });

  afterEach(() => {
    delete (globalThis as { navigator?: unknown }).navigator;
  });

  it("pauses between opens that find the files busy with the lock free (50 ms doubling), and an abort ends the wait at once", async () => {
    const attempts: number[] = [];
    const started = Date.now();
    const controller = new AbortController();
    let followed = 0;
    const acquiring = acquireQueueOwnership(
      "busy",
      () => {
        attempts.push(Date.now() - started);
        return Promise.reject(new QueueLockedError("opfs:/asymgen/busy", null));
      },
      controller.signal,
      () => (followed += 1),
    );
    const outcome = acquiring.then(
      () => "opened",
      (error: unknown) => error,
    );
    // Waits for the first try and three retries (not a fixed 700 ms: on a loaded machine the
    // pauses' timers come late and fewer tries fit), then aborts during the next pause.
    const deadline = Date.now() + 10_000;
    while (attempts.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    controller.abort();
    // At once: settled within the abort's own turn (its listeners reject), before any timer or
    // I/O callback could run, rather than "within 100 ms", which a descheduled process can miss.
    const settledAtOnce = await Promise.race([outcome.then(() => true), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
    expect(settledAtOnce).toBe(true);
    expect(await outcome).toMatchObject({ name: "AbortError" });
    expect(followed).toBe(1);
    // Nothing is tried after the abort.
    const tried = attempts.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(attempts.length).toBe(tried);
    // The first try, then one at once behind the lock, then retries after pauses of 50, 100, 200…
    // ms, not a spin (timers never fire early; 2 ms for the clock's rounding).
    const gaps = attempts.slice(2).map((at, i) => at - attempts[i + 1]!);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(50 * 2 ** i - 2));
  });

  it("opens at once when the lock is free and the files are too", async () => {
    let opens = 0;
    const store = await acquireQueueOwnership("free", () => Promise.resolve(`store ${++opens}`), new AbortController().signal, () => undefined);
    expect(store).toBe("store 1");
  });
});
