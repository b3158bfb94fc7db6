/**
 * The model the browser Realm test pages ingest: a hand-written class that follows the
 * generated-code contract (static schema and encoder), like test/support/queue-models.ts's
 * `Measurement`. Imported relatively from the runtime's codegen entry because the page bundler
 * aliases only the bare "asymgen" (test/browser/support/page-server.ts).
 */
import { IngestValidationError, encodeSymbol, type BsonWriter, type CanonicalObjectSchema } from "../../../runtime/codegen/index.js";

/** Init of `Reading`. */
export interface ReadingInit {
  id: number;
  deviceId: string;
  value: number;
}

/** An asymmetric model persisted as "measurement" (the server tests' table of that name takes it). */
export class Reading {
  id: number;
  deviceId: string;
  value: number;

  static readonly schema: CanonicalObjectSchema = {
    name: "measurement",
    asymmetric: true,
    embedded: false,
    primaryKey: "id",
    properties: {
      id: { name: "id", type: "int", optional: false, indexed: true, mapTo: "_id" },
      deviceId: { name: "deviceId", type: "string", optional: false, indexed: false, mapTo: "deviceId" },
      value: { name: "value", type: "double", optional: false, indexed: false, mapTo: "value" },
    },
  };

  constructor(init: ReadingInit) {
    this.id = init.id;
    this.deviceId = init.deviceId;
    this.value = init.value;
  }

  static [encodeSymbol](writer: BsonWriter, value: ReadingInit): void {
    const start = writer.startDocument();
    if (!Number.isSafeInteger(value.id)) throw new IngestValidationError("id", "an integer");
    writer.int64("_id", value.id);
    if (typeof value.deviceId !== "string") throw new IngestValidationError("deviceId", "a string");
    writer.string("deviceId", value.deviceId);
    if (typeof value.value !== "number" || !Number.isFinite(value.value)) throw new IngestValidationError("value", "a finite number");
    writer.double("value", value.value);
    writer.endDocument(start);
  }
}
