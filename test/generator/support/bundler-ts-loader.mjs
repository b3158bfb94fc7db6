// A webpack loader for the bundler driver's app entry (bundler-driver.mjs): strips TypeScript's
// types with esbuild, which the generated X.realm.ts files need before webpack can parse them.
import { transform } from "esbuild";

export default function typeScriptLoader(source) {
  const callback = this.async();
  transform(source, { loader: "ts", format: "esm" }).then(
    (result) => callback(null, result.code),
    (error) => callback(error),
  );
}
