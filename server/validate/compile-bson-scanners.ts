/**
 * The schema-driven document validator, working on BSON bytes: each model's canonical schema is
 * compiled once, at startup, into a tree of small scanning closures. Scanning a document walks
 * its bytes once, checks every value against the schema and writes its `_id` value's canonical
 * Extended JSON (what `EJSON.stringify(…, { relaxed: false })` prints), the batch's key for it:
 * no JavaScript object is built for a document, which made deserialising, validating and
 * converting the most expensive part of ingest before. The stores keep the BSON, so the `_id`'s
 * text is the only one written: the scanners check, and the top-level object scanner writes the
 * `_id` from its bytes once they are checked (server/ejson's writeBsonValue).
 *
 * Rules: types per canonical type (int is Int64 or Int32; float/double is a double, or an Int32
 * some writers use for whole numbers; uuid is binary subtype 4; data is subtype 0; mixed is any
 * scalar), required fields present and not null, embedded objects recursively, list/set/dictionary
 * elements, no unknown or repeated fields, no `$`-prefixed or empty names, dictionary keys without
 * `.`. Structural damage (lengths, terminators, UTF-8) throws MalformedBsonError instead, and so
 * does nesting deeper than `maxNestingDepth`: the scanners recurse, and a recursive embedded type
 * would otherwise let a client nest deep enough to overflow the stack.
 *
 * This module compiles a schema (checking it hangs together, links compiled lazily); the scanners
 * are in scalar-scanners.ts, object-scanner.ts and collection-scanners.ts, sharing the scan's
 * state from scan-context.ts; scanned-document.ts is what a scan produces. Bytes are read with
 * server/bson and the text written with server/ejson.
 */
import type { CanonicalObjectSchema, CanonicalPropertySchema } from "asymgen/schema";
import { BsonType } from "../bson/bson-cursor.js";
import { compileArray, compileDictionary } from "./collection-scanners.js";
import { compileObjectScanner } from "./object-scanner.js";
import { compileScalar, scalarTypes } from "./scalar-scanners.js";
import { Invalid } from "./scan-context.js";
import type { ScanContext, ValueScanner } from "./scan-context.js";
import type { DocumentScanner, SchemaScanners } from "./scanned-document.js";

/** The model or scalar type a link or collection property points at; throws when the schema gives none. */
function requireObjectType(property: CanonicalPropertySchema): string {
  if (!property.objectType) throw new Error(`schema: property "${property.name}" of type ${property.type} has no objectType`);
  return property.objectType;
}

/** Compiles one scanner per asymmetric model of `schemas`; throws on a schema that does not hang together. */
export function compileBsonScanners(schemas: readonly CanonicalObjectSchema[]): SchemaScanners {
  const byName = new Map(schemas.map((schema) => [schema.name, schema]));
  // Checked up front (links compile lazily, to allow recursive embedded types) so a bad schema
  // fails at startup, not on the first document.
  for (const schema of schemas) {
    for (const property of Object.values(schema.properties)) {
      if (property.type !== "object" && property.type !== "list" && property.type !== "set" && property.type !== "dictionary") continue;
      const target = requireObjectType(property);
      if (!scalarTypes.has(target) && !byName.has(target))
        throw new Error(`schema: unknown object type "${target}" (property "${schema.name}.${property.name}")`);
    }
  }
  // By name.
  const objectScanners = new Map<string, ValueScanner>();

  function objectScanner(name: string): ValueScanner {
    const existing = objectScanners.get(name);
    if (existing) return existing;
    const schema = byName.get(name);
    if (!schema) throw new Error(`schema: unknown object type "${name}"`);
    // Registered before the fields compile so a recursive embedded type finds itself.
    let scan: ValueScanner = () => 0;
    objectScanners.set(name, (ctx, t, pos, limit) => scan(ctx, t, pos, limit));
    scan = compileObjectScanner(schema, false, compileProperty);
    return objectScanners.get(name)!;
  }

  /** The scanner of embedded model `name`, looked up on its first use (links compile lazily) and kept. */
  function linkTo(name: string): ValueScanner {
    let scan: ValueScanner | null = null;
    return (ctx, t, pos, limit) => (scan ??= objectScanner(name))(ctx, t, pos, limit);
  }

  function nullable(scan: ValueScanner, nullMessage: string | null): ValueScanner {
    return (ctx, t, pos, limit) => {
      if (t !== BsonType.null) return scan(ctx, t, pos, limit);
      if (nullMessage !== null) throw new Invalid("", nullMessage);
      return pos;
    };
  }

  function compileProperty(property: CanonicalPropertySchema): ValueScanner {
    switch (property.type) {
      case "list":
      case "set":
        return compileArray(elementScanner(property), property.type, property.objectType === "string");
      case "dictionary":
        return compileDictionary(elementScanner(property), property.objectType === "string");
      case "object": {
        const target = requireObjectType(property);
        return nullable(linkTo(target), null);
      }
      default: {
        const scan = compileScalar(property.type);
        if (property.optional || property.type === "mixed") return nullable(scan, null);
        // A required scalar sent as null fails with the type's own message ("expected a string").
        return scan;
      }
    }
  }

  function elementScanner(property: CanonicalPropertySchema): ValueScanner {
    const elementType = requireObjectType(property);
    const inner: ValueScanner = scalarTypes.has(elementType)
      ? compileScalar(elementType)
      : linkTo(elementType);
    return nullable(inner, property.optional || elementType === "mixed" ? null : "expected a value, not null");
  }

  const validators = new Map<string, DocumentScanner>();
  for (const schema of schemas) {
    if (!schema.asymmetric || schema.embedded) continue;
    const scan = compileObjectScanner(schema, true, compileProperty);
    validators.set(schema.name, (buf, start, output, view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)) => {
      const first = output.length;
      const ctx: ScanContext = { buf, view, out: output.buf, pos: first, ascii: true, idStart: -1, idEnd: -1, idType: 0, depth: 0 };
      try {
        scan(ctx, BsonType.document, start, buf.length);
      } catch (error) {
        // What this document wrote is left behind: the next one writes over it.
        output.buf = ctx.out;
        if (error instanceof Invalid) return { ok: false, path: topLevelPath(error.path), message: error.message };
        throw error;
      }
      output.buf = ctx.out;
      output.length = ctx.pos;
      return { ok: true, idStart: ctx.idStart, idEnd: ctx.idEnd, ascii: ctx.ascii, widenId: ctx.idType === BsonType.int32 };
    });
  }
  return validators;
}

/** A path relative to the document (steps `.a`, `[2]`, `["k"]`) as reported: `a[2]["k"]`, or `(document)` for the document itself. */
function topLevelPath(steps: string): string {
  if (steps === "") return "(document)";
  return steps.startsWith(".") ? steps.slice(1) : steps;
}
