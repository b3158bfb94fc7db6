/**
 * The language server's text helpers for quick fixes, on plain strings: how a deleted decorator
 * takes its blank along, and the asymgen import a fix's text needs.
 */
import { describe, expect, test } from "@jest/globals";
import { widenDeletion } from "../../generator/lsp/code-actions.js";
import { importMissingNames } from "../../generator/lsp/missing-imports.js";

const apply = (text: string, [start, end]: [number, number], insert = ""): string => text.slice(0, start) + insert + text.slice(end);

describe("widenDeletion", () => {
  test("a decorator alone on its line takes the line; one before a name takes its blank", () => {
    const alone = "class _A {\n  @Indexed()\n  code!: string;\n}\n";
    const at = alone.indexOf("@Indexed()");
    expect(apply(alone, widenDeletion(alone, at, at + "@Indexed()".length))).toBe("class _A {\n  code!: string;\n}\n");
    const inline = "class _A {\n  @Indexed() code!: string;\n}\n";
    const start = inline.indexOf("@Indexed()");
    expect(apply(inline, widenDeletion(inline, start, start + "@Indexed()".length))).toBe("class _A {\n  code!: string;\n}\n");
    const crlf = "class _A {\r\n\t@Indexed()\r\n\tcode!: string;\r\n}\r\n";
    const tab = crlf.indexOf("@Indexed()");
    expect(apply(crlf, widenDeletion(crlf, tab, tab + "@Indexed()".length))).toBe("class _A {\r\n\tcode!: string;\r\n}\r\n");
  });
});

describe("importMissingNames", () => {
  test("adds to the file's asymgen import, or a new import, only what is missing", () => {
    const named = `import { ObjectId, RealmModel } from "asymgen";\nimport { other } from "./other.js";\n`;
    const insertion = importMissingNames(named, ['@PrimaryKey() @MapTo("_id") ', "@RealmModel(ObjectType.embeddedObject)"]);
    expect(insertion).toBeDefined();
    expect(apply(named, [insertion!.offset, insertion!.offset], insertion!.newText)).toBe(`import { ObjectId, RealmModel, PrimaryKey, MapTo, ObjectType } from "asymgen";\nimport { other } from "./other.js";\n`);
    expect(importMissingNames(named, ["@RealmModel(Foo)"])).toBeUndefined();
    expect(importMissingNames(named, ["_Reading[]"])).toBeUndefined();
    const typeOnly = `import type { Types } from "asymgen";\n\nexport class _A {}\n`;
    const added = importMissingNames(typeOnly, ["@Ignored() "])!;
    expect(apply(typeOnly, [added.offset, added.offset], added.newText)).toBe(`import type { Types } from "asymgen";\nimport { Ignored } from "asymgen";\n\nexport class _A {}\n`);
    const none = `export class _A {}\n`;
    const first = importMissingNames(none, ["Types.Int"])!;
    expect(apply(none, [first.offset, first.offset], first.newText)).toBe(`import { type Types } from "asymgen";\nexport class _A {}\n`);
  });

  test("a name the file binds elsewhere (a barrel, a namespace, its own declaration) is not imported again", () => {
    const barrel = `import { PrimaryKey, Indexed as Ix } from "./decorators.js";\nimport { RealmModel } from "asymgen";\n`;
    expect(importMissingNames(barrel, ["@PrimaryKey() "])).toBeUndefined();
    // Bound under another name only: `Indexed` itself is still missing.
    const indexed = importMissingNames(barrel, ["@Indexed() "])!;
    expect(apply(barrel, [indexed.offset, indexed.offset], indexed.newText)).toBe(`import { PrimaryKey, Indexed as Ix } from "./decorators.js";\nimport { RealmModel, Indexed } from "asymgen";\n`);
    const own = `import * as Types from "./types.js";\nconst { Ignored } = helpers;\nfunction MapTo(): void {}\n`;
    expect(importMissingNames(own, ["Types.Int", "@Ignored() ", '@MapTo("x") '])).toBeUndefined();
  });
});
