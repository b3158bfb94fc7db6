/**
 * The lean compiler environment (config/reduce-compiler-environment.ts): runs start without the
 * DOM lib and automatic @types, and a run that reports any error is redone in the user's full
 * environment, so results never depend on the shortcut. A model that needs a DOM declaration
 * proves it: it fails in a lean-only program and must succeed here.
 */
import { afterEach, describe, expect, test } from "@jest/globals";
import { generate, openGenerator, type GenerateOptions } from "@asymgen/generator";
import { reduceCompilerEnvironment } from "../../generator/config/reduce-compiler-environment.js";
import { EVENT_MODEL, createWorkspace, workspaceCompilerOptions, type Workspace } from "./support/create-workspace.js";

let workspace: Workspace | undefined;
afterEach(() => {
  workspace?.cleanup();
  workspace = undefined;
});

// Without @types/node, `performance` is declared only by lib.dom (its `now()` returns a number).
const DOM_MODEL = `import { MapTo, ObjectType, PrimaryKey, RealmModel, type Types } from "asymgen";

@RealmModel(ObjectType.asymmetricObject)
export class _Timing {
  @PrimaryKey()
  @MapTo("_id")
  id!: Types.UUID;
  stamp = performance.now();
}
`;

function options(ws: Workspace, extra: GenerateOptions = {}): GenerateOptions {
  return { cwd: ws.dir, paths: ["models"], cacheDir: ws.path(".cache"), schemaOut: "schema.json", compilerOptions: workspaceCompilerOptions(), force: true, ...extra };
}

function stampType(ws: Workspace): unknown {
  const schemas = JSON.parse(ws.read("schema.json")) as { name: string; properties: Record<string, { type: string }> }[];
  return schemas.find((schema) => schema.name === "Timing")?.properties["stamp"]?.type;
}

describe("the lean compiler environment", () => {
  test("leaves out the DOM lib and automatic @types, never what the user set", () => {
    expect(reduceCompilerEnvironment({ target: 9 /* ES2022 */ })).toEqual({ target: 9, lib: ["lib.es2022.d.ts"], types: [] });
    expect(reduceCompilerEnvironment({ target: 1 /* ES5 */, types: ["node"] })).toEqual({ target: 1, types: ["node"], lib: ["lib.es5.d.ts"] });
    expect(reduceCompilerEnvironment({ lib: ["lib.dom.d.ts"], types: [] })).toBeUndefined();
    expect(reduceCompilerEnvironment({ noLib: true, types: [] })).toBeUndefined();
  });

  test("a model that needs a DOM declaration generates as in the full environment", async () => {
    const ws = (workspace = createWorkspace({ "models/timing.ts": DOM_MODEL, "models/event.ts": EVENT_MODEL }));
    const result = await generate(options(ws));
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
    expect(stampType(ws)).toBe("double");
    // Without the DOM (the user's own choice), the same model is an error: the retry is what made it work.
    const withoutDom = await generate(options(ws, { compilerOptions: { ...workspaceCompilerOptions(), lib: ["lib.es2022.d.ts"] } }));
    expect(withoutDom.ok).toBe(false);
    expect(withoutDom.diagnostics.some((diagnostic) => diagnostic.severity === "error")).toBe(true);
  });

  test("a watch-mode update that needs the DOM switches the session to the full environment", async () => {
    const ws = (workspace = createWorkspace({ "models/event.ts": EVENT_MODEL }));
    const session = openGenerator(options(ws));
    try {
      expect((await session.run()).ok).toBe(true);
      const file = ws.write("models/timing.ts", DOM_MODEL);
      const updated = await session.update([file]);
      expect(updated.diagnostics).toEqual([]);
      expect(updated.ok).toBe(true);
      expect(stampType(ws)).toBe("double");
      // Later updates keep working in the full environment.
      ws.write("models/timing.ts", DOM_MODEL.replace("stamp = performance.now();", "stamp = performance.now();\n  label!: string;"));
      const again = await session.update([file]);
      expect(again.ok).toBe(true);
      expect(again.written).toContain(ws.path("models/timing.realm.ts"));
    } finally {
      session.close();
    }
  });
});
