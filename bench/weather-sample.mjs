// The WeatherSensor document the benches ingest (DESIGN.md's example), and its bytes as the
// generated encoder writes them: exactly what a queue holds and the server receives.
import { ObjectId } from "asymgen";
import { BsonWriter } from "asymgen/codegen";
import { encodeWeatherSensor } from "../build/examples/weather/models.realm.js";

/** A WeatherSensor init with a fresh id; `n` varies the device, the readings' time and a few values. */
export function sampleDocument(n) {
  const at = new Date(1_700_000_000_000 + n);
  return {
    id: new ObjectId(),
    deviceId: `WX${n % 1000}`,
    temperatureInFahrenheit: 60 + (n % 100) / 10,
    barometricPressureInHg: 29.92,
    windSpeedInMph: n % 40,
    readings: [
      { at, value: 0.5 },
      { at, value: 0.25 },
      { at, value: 0.125 },
    ],
    tags: new Set(["bench", n % 2 ? "odd" : "even"]),
    attributes: { firmware: "1.4.2", site: "north" },
    notes: "steady",
    location: { latitude: 47.6, longitude: -122.3, elevationInFeet: 180 },
  };
}

/**
 * The generated encoder's bytes for one init. Not bson's serialize: it writes a whole double
 * (60.0) as an Int32, which a typed table's double column would not take as the server's documents.
 */
export function encodeSample(init) {
  const writer = new BsonWriter(1024);
  encodeWeatherSensor(writer, init);
  return writer.copy();
}
