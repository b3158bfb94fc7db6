/**
 * The contract between a generated model class and the runtime: what `realm.ingest` may call.
 * Generated code is the only producer; `Realm` and the sync session are the consumers.
 */
import type { CanonicalObjectSchema } from "../schema/canonical-schema.js";
import type { BsonWriter } from "../encode/bson-writer.js";

/**
 * The key under which a generated class carries its encoder. A symbol, so the encoder is not
 * part of the class's public, autocompleted surface.
 */
export const encodeSymbol: unique symbol = Symbol.for("asymgen.encode");

/**
 * Validates `value` (an init object or an instance of the class, defaults not yet applied) and
 * appends it to `writer` as one complete top-level BSON document in a single pass. Throws an
 * `IngestValidationError` naming the path of the first bad value; the caller discards whatever
 * the writer holds past its own mark.
 */
export type ModelEncoder<Init> = (writer: BsonWriter, value: Init) => void;

/** What every generated class is, seen from the runtime. */
export interface GeneratedModelClass<Init = never> {
  new (init: Init): object;
  readonly schema: CanonicalObjectSchema;
  readonly [encodeSymbol]: ModelEncoder<Init>;
}
