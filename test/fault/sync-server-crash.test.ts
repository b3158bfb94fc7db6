/**
 * The server SIGKILLs itself mid-upload, just before or just after committing a batch (the
 * test-only ASYMGEN_FAULT_CRASH hook), three times over; each time it is restarted. The client
 * keeps retrying, and at the end every committed document is stored exactly once: the retried
 * batch after an "after-commit" crash is recognised by the high-water mark, not re-stored and not
 * reported as a duplicate.
 */
import { afterEach, beforeEach, describe, expect, test } from "@jest/globals";
import * as path from "node:path";
import {
  closeAllDevices,
  uploadAll,
  expectedIdKeys,
  ingestRange,
  makeTempDir,
  openDevice,
  openStoreForReading,
  readStoredIdKeys,
  removeTempDir,
  ServerProcess,
  type Device,
  syncTable,
  writeSchemaFile,
} from "../e2e/sync-stack.js";
import { TcpProxy } from "../support/tcp-proxy.js";

let dir: string;
let running: ServerProcess | null = null;
let proxy: TcpProxy | null = null;

beforeEach(() => {
  dir = makeTempDir("fault-server");
});

afterEach(async () => {

  closeAllDevices();
  await running?.kill();
  running = null;
  await proxy?.close();
  proxy = null;
  removeTempDir(dir);
});

/** Waits for the fault to kill the server; on a timeout, says where the upload stood. */
async function waitForCrash(server: ServerProcess, device: Device): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const session = device.realm.syncSession;
      reject(
        new Error(
          `the server did not crash within 30 s: session ${session?.state}/${session?.connectionState}, ` +
            `${session?.pendingDocuments} pending, errors: ${device.errors.map((e) => e.message).join("; ")}\n${server.log}`,
        ),
      );
    }, 30_000);
  });
  try {
    await Promise.race([server.exited(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe.each(["before-commit", "after-commit"] as const)("server killed %s", (point) => {
  test("restarted three times mid-upload: every committed document stored exactly once", async () => {
    const schemaFile = writeSchemaFile(path.join(dir, "schema.json"));
    const storeUrl = `sqlite:${path.join(dir, "ingest.sqlite")}`;
    const spawnServer = async (crashAfter: number | null) => {
      const server = await ServerProcess.spawn({
        schemaFile,
        storeUrl,
        args: ["--quiet"],
        env: crashAfter === null ? {} : { ASYMGEN_ENABLE_TEST_HOOKS: "1", ASYMGEN_FAULT_CRASH: point, ASYMGEN_FAULT_CRASH_AFTER: String(crashAfter) },
      });
      // The device keeps one address; the proxy follows the server to its new port.
      if (proxy === null) proxy = await TcpProxy.start(server.port);
      else proxy.retarget(server.port);
      return server;
    };

    running = await spawnServer(3);
    const device = await openDevice(proxy!.url, path.join(dir, "device"), { sync: { maxBatchDocuments: 40 } });
    let last = 0;
    for (let crash = 0; crash < 3; crash++) {
      // Enough for several batches of 40: the third batch this server process sees kills it.
      ingestRange(device.realm, last + 1, last + 300, 20);
      last += 300;
      await waitForCrash(running, device);
      expect(running.child.signalCode).toBe("SIGKILL");
      // Writes go on while the server is down: they queue on disk.
      ingestRange(device.realm, last + 1, last + 50, 10);
      last += 50;
      running = await spawnServer(crash < 2 ? 3 : null);
    }
    await uploadAll(device, 30_000);
    expect(device.realm.queueStats().pendingDocuments).toBe(0);
    device.realm.close();
    await running.kill();
    running = null;

    expect(await readStoredIdKeys(storeUrl)).toEqual(expectedIdKeys(1, last));
    const store = await openStoreForReading(storeUrl);
    try {
      const docs = await store.readDocuments(syncTable);
      const queueId = docs[0]!.queueId;
      expect(new Set(docs.map((doc) => doc.queueId))).toEqual(new Set([queueId]));
      expect((await store.readQueue(queueId))?.highSeq).toBe(BigInt(last));
      expect((await store.countRows())["asymgen_rejections"]).toBe(0);
    } finally {
      await store.close();
    }
    // No document was refused as a duplicate on a retry, and nothing else went wrong.
    expect(device.errors).toEqual([]);
  }, 120_000);
});
