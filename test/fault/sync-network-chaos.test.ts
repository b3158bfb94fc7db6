/**
 * A TCP proxy between device and server resets, stalls and truncates connections at random
 * (seeded; the seed is printed, and ASYMGEN_FAULT_SEED replays a run) while a device streams.
 * Truncated requests must write nothing, truncated answers must not lead to a double store, and
 * stalls must end in the client's timeout and a retry. At the end every committed document is
 * stored exactly once.
 */
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import * as path from "node:path";
import type { IngestServer } from "../../server/create-server.js";
import { TcpProxy } from "../support/tcp-proxy.js";
import {
  closeAllDevices,
  uploadAll,
  expectedIdKeys,
  ingestRange,
  makeTempDir,
  openDevice,
  readStoredIdKeys,
  removeTempDir,
  startServer,
} from "../e2e/sync-stack.js";

let dir: string;
let server: IngestServer;
let proxy: TcpProxy;

beforeAll(async () => {
  dir = makeTempDir("fault-chaos");
  server = await startServer(`sqlite:${path.join(dir, "ingest.sqlite")}`);
  proxy = await TcpProxy.start(server.port);
});

afterAll(async () => {

  closeAllDevices();
  await proxy?.close();
  await server?.close();
  removeTempDir(dir);
});

test("random resets, stalls and truncations: every committed document stored exactly once", async () => {
  const seed = Number(process.env["ASYMGEN_FAULT_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`sync network chaos: seed ${seed} (replay with ASYMGEN_FAULT_SEED=${seed})`);
  const storeUrl = `sqlite:${path.join(dir, "ingest.sqlite")}`;
  // Log in while the network is sound; from here on everything goes through the chaos.
  const device = await openDevice(proxy.url, path.join(dir, "device"), {
    sync: { maxBatchDocuments: 25, requestTimeoutMs: 400, initialBackoffMs: 10, maxBackoffMs: 100 },
  });
  proxy.setChaos({ seed, reset: 0.04, stall: 0.03, truncate: 0.05 });
  const total = 1500;
  for (let start = 1; start <= total; start += 100) {
    ingestRange(device.realm, start, start + 99, 10);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  // Still under chaos: the session has to get through it on its own.
  await uploadAll(device, 90_000);
  proxy.setChaos(null);
  device.realm.close();
  const { resets, stalls, truncations, connections } = proxy.stats;
  console.log(`sync network chaos: seed ${seed}: ${connections} connections, ${resets} resets, ${stalls} stalls, ${truncations} truncations`);
  expect(resets + stalls + truncations).toBeGreaterThan(0);
  expect(await readStoredIdKeys(storeUrl)).toEqual(expectedIdKeys(1, total));
  expect(device.errors).toEqual([]);
}, 120_000);
