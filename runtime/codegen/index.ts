/**
 * The only module generated code imports ("asymgen/codegen"). Everything generated code calls
 * is exported here and nowhere else, and the generator takes the names it emits from this
 * module's exports (generator/render/runtime-symbols.ts), so renaming one breaks our build,
 * never a user's.
 */
export { BsonWriter, arrayKey } from "../encode/bson-writer.js";
export { IngestValidationError } from "../errors.js";
export { encodeSymbol } from "./model-class.js";
export type { GeneratedModelClass, ModelEncoder } from "./model-class.js";
export type { CanonicalObjectSchema, CanonicalPropertySchema } from "../schema/canonical-schema.js";
