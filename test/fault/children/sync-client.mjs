// A device process for the client-crash fault test (test/fault/sync-client-crash.test.ts).
// Usage: node sync-client.mjs stream|drain DIR BASE_URL RUN
// stream: ingests transactions of 10 documents forever, printing "C <firstId> <lastId>" after
//         each write() returns (the transaction is then on disk), while the session uploads.
// drain:  uploads everything, ingests one marker document, uploads it, prints "D <markerSeq>"
//         (the number of documents the queue ever committed) and exits.
import * as path from "node:path";
import { App, Credentials, ObjectId, Realm } from "asymgen";
import { DeviceEvent, Location, Reading, WeatherSensor } from "../../../build/examples/weather/models.realm.js";

const [mode, dir, baseUrl, runArg] = process.argv.slice(2);
const app = new App({ id: "e2e", baseUrl, baseFilePath: path.join(dir, "app") });
const user = app.currentUser ?? (await app.logIn(Credentials.anonymous()));
const realm = await Realm.open({
  schema: [WeatherSensor, Reading, Location, DeviceEvent],
  path: path.join(dir, "queue"),
  durability: "os",
  sync: {
    user,
    flexible: true,
    maxBatchDocuments: 30,
    initialBackoffMs: 20,
    maxBackoffMs: 200,
    onError: (_session, error) => process.stdout.write(`E ${error.message}\n`),
  },
});
process.stdout.write(`READY ${user.id}\n`);

// The _id encodes the number in hex, as test/e2e/sync-stack.ts's objectIdOf does.
const document = (n) => ({
  id: new ObjectId(n.toString(16).padStart(24, "0")),
  deviceId: "crashy",
  temperatureInFahrenheit: 61.5,
  barometricPressureInHg: 29.92,
  windSpeedInMph: n % 50,
  readings: [{ at: new Date(), value: 0.5 }],
  tags: new Set(["crash"]),
  attributes: { run: String(Math.floor(n / 1_000_000)) },
});

if (mode === "stream") {
  const run = Number(runArg);
  let k = 0;
  for (;;) {
    const first = run * 1_000_000 + k + 1;
    realm.write(() => {
      for (let i = 0; i < 10; i++) realm.ingest(WeatherSensor, document(run * 1_000_000 + ++k));
    });
    process.stdout.write(`C ${first} ${first + 9}\n`);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
} else {
  await realm.syncSession.uploadAllLocalChanges(60_000);
  let seq = 0;
  realm.write(() => {
    seq = realm.ingest(WeatherSensor, document(999_999_999));
  });
  await realm.syncSession.uploadAllLocalChanges(60_000);
  process.stdout.write(`D ${seq}\n`);
  realm.close();
}
