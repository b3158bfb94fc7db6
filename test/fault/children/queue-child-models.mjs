// A hand-written model class in plain JS for the queue's child processes: it follows the
// generated-code contract (static schema, static [encodeSymbol]) over the built runtime.
import { encodeSymbol, IngestValidationError } from "asymgen/codegen";

export class Measurement {
  static schema = {
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

  constructor(init) {
    Object.assign(this, init);
  }

  static [encodeSymbol](writer, value) {
    const start = writer.startDocument();
    if (!Number.isSafeInteger(value.id)) throw new IngestValidationError("id", "an integer");
    writer.int64("_id", value.id);
    writer.string("deviceId", value.deviceId);
    if (!Number.isFinite(value.value)) throw new IngestValidationError("value", "a finite number");
    writer.double("value", value.value);
    writer.endDocument(start);
  }
}

