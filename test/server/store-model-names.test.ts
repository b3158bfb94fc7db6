/**
 * A persisted model name with spaces (realm-dart maps classes to "another type"; the generator's
 * ASYM3030 accepts it because a store can hold it): the generated schema of the realm-dart-mapto
 * fixture, served by a real server on a real SQLite file, stores and reads back a document of it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "@jest/globals";
import { Long, ObjectId, serialize } from "bson";
import { MappedToo } from "../../fixtures/realm-dart-mapto/expected/another.realm.js";
import { Original } from "../../fixtures/realm-dart-mapto/expected/original.realm.js";
import { createIngestServer } from "../../server/create-server.js";
import { encodeBatch, loginAnonymous, newQueueId, postIngest } from "../support/ingest-server-fixtures.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "asymgen-model-names-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it("stores a model persisted as \"this is also mapped\" whose embedded model is \"another type\"", async () => {
  expect([MappedToo.schema.name, Original.schema.name]).toEqual(["this is also mapped", "another type"]);
  const server = await createIngestServer({ schema: [MappedToo.schema, Original.schema], appId: "names", store: `sqlite:${path.join(dir, "names.sqlite")}`, quiet: true });
  try {
    const { access_token: token } = await loginAnonymous(server.url, "names");
    const doc = { _id: new ObjectId(), singleLink: { "remapped primitive": Long.fromNumber(3), "remapped list": ["a"] }, listLink: [] };
    const result = await postIngest(server.url, "names", token, encodeBatch(newQueueId(), [{ seq: 1, table: "this is also mapped", doc }]));
    expect(result.answer).toEqual({ acknowledgedSeq: 1n, rejected: [] });
    const stored = await server.store.readDocuments("this is also mapped");
    expect(stored.map((d) => Buffer.from(d.bson).toString("hex"))).toEqual([Buffer.from(serialize(doc)).toString("hex")]);
  } finally {
    await server.close();
  }
});
