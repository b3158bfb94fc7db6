/**
 * The server's rooms import one way: BSON reading (server/bson) needs nothing of the server, EJSON
 * writing (server/ejson) reads BSON, validation (server/validate) reads BSON and writes EJSON,
 * ingest prepares a store batch from all three, and the stores (server/stores) know none of them:
 * ingest produces the batch types the store side defines. And the optional drivers (`pg`,
 * `mongodb`) are imported statically only for their types. Read from the source files' imports.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "@jest/globals";

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../server");

/** The rooms of server/ each room may import (besides itself, runtime/ and packages). */
const allowed: Record<string, readonly string[]> = {
  bson: [],
  ejson: ["bson"],
  validate: ["bson", "ejson"],
  ingest: ["bson", "ejson", "validate", "http", "stores/store-batch.ts"],
  stores: [],
};

interface Import {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

/** The static and dynamic imports of every .ts file under `room`. */
function importsOf(room: string): Import[] {
  const imports: Import[] = [];
  for (const name of fs.readdirSync(path.join(serverDir, room))) {
    if (!name.endsWith(".ts")) continue;
    const file = path.join(room, name);
    const text = fs.readFileSync(path.join(serverDir, file), "utf8");
    for (const match of text.matchAll(/^(import|export)(\s+type)?[^"';]*?from\s+"([^"]+)"/gms)) imports.push({ file, specifier: match[3]!, typeOnly: match[2] !== undefined });
    for (const match of text.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) imports.push({ file, specifier: match[1]!, typeOnly: false });
  }
  return imports;
}

/** Where a relative import lands, relative to server/ ("bson/bson-cursor.ts"), or null outside server/. */
function targetOf({ file, specifier }: Import): string | null {
  if (!specifier.startsWith(".")) return null;
  const target = path.relative(serverDir, path.resolve(serverDir, path.dirname(file), specifier)).replace(/\.js$/, ".ts");
  return target.startsWith("..") ? null : target.split(path.sep).join("/");
}

describe("the server's rooms", () => {
  it.each(Object.keys(allowed))("server/%s imports only the rooms below it", (room) => {
    const imports = importsOf(room);
    // bson/ is the leaf: it imports nothing at all; every other room must be read at all.
    if (room !== "bson") expect(imports.length).toBeGreaterThan(0);
    const wrong = imports
      .map((item) => ({ ...item, target: targetOf(item) }))
      .filter(({ target }) => target !== null && !target.startsWith(`${room}/`))
      .filter(({ target }) => !allowed[room]!.some((ok) => target === ok || target!.startsWith(`${ok}/`)))
      .map(({ file, specifier }) => `${file} imports ${specifier}`);
    expect(wrong).toEqual([]);
  });

  it("ingest takes only types from the stores", () => {
    const fromStores = importsOf("ingest").filter((item) => targetOf(item)?.startsWith("stores/"));
    expect(fromStores.length).toBeGreaterThan(0);
    expect(fromStores.filter((item) => !item.typeOnly)).toEqual([]);
  });

  it("imports pg and mongodb statically only for their types (they load when a store URL names them)", () => {
    const drivers = Object.keys(allowed)
      .flatMap(importsOf)
      .filter(({ specifier }) => specifier === "pg" || specifier === "mongodb");
    expect(drivers.length).toBeGreaterThan(0);
    expect(drivers.filter((item) => !item.typeOnly)).toEqual([]);
  });
});
