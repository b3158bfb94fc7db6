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
    await new Promise((resolve) => setTimeout(resolve, 700));
    controller.abort();
    const abortedAt = Date.now();
    expect(await outcome).toMatchObject({ name: "AbortError" });
    expect(Date.now() - abortedAt).toBeLessThan(100);
    expect(followed).toBe(1);
    // The first try, then retries after 50, 100, 200 and 400 ms of pause: 5 or so in 700 ms, not hundreds.
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.length).toBeLessThanOrEqual(6);
    const gaps = attempts.slice(2).map((at, i) => at - attempts[i + 1]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(45);
  });

  it("opens at once when the lock is free and the files are too", async () => {
    let opens = 0;
    const store = await acquireQueueOwnership("free", () => Promise.resolve(`store ${++opens}`), new AbortController().signal, () => undefined);
    expect(store).toBe("store 1");
  });
});
