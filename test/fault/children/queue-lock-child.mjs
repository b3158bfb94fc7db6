// Opens the queue at argv[2]. Prints "open" and holds it until stdin closes, or prints the
// error's name and its ownerPid and exits.
import { Realm } from "asymgen";
import { Measurement } from "./queue-child-models.mjs";

try {
  const realm = await Realm.open({ schema: [Measurement], path: process.argv[2] });
  process.stdout.write("open\n");
  process.stdin.resume();
  process.stdin.on("end", () => {
    realm.close();
    process.exit(0);
  });
} catch (error) {
  process.stdout.write(`${error.name} ${error.ownerPid ?? ""} ${error.message}\n`);
  process.exit(0);
}
