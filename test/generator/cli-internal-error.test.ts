/**
 * An internal failure (a bug in asymgen) reaches the user as diagnostic ASYM9001 asking for a
 * report, in the same format as every other diagnostic, with the detail a maintainer needs.
 */
import { describe, expect, test } from "@jest/globals";
import { renderInternalError } from "../../generator/cli/render-internal-error.js";
import { createInternalErrorDiagnostic } from "../../generator/config/create-internal-error-diagnostic.js";

describe("internal errors", () => {
  test("become ASYM9001 diagnostics that ask for a report", () => {
    const diagnostic = createInternalErrorDiagnostic(new TypeError("cannot read properties of undefined"));
    expect(diagnostic).toMatchObject({ code: "ASYM9001", severity: "error", message: "asymgen failed internally: cannot read properties of undefined" });
    expect(diagnostic.hint).toMatch(/^This is a bug in asymgen\. Please report it/);
    expect(diagnostic.hint).toContain("TypeError: cannot read properties of undefined");
  });

  test("print through the diagnostics renderer, starting with the code, not with a stack", () => {
    const text = renderInternalError(new Error("boom"));
    expect(text).toMatch(/^error ASYM9001: asymgen failed internally: boom/);
    expect(text.endsWith("\n")).toBe(true);
    expect(renderInternalError("a thrown string")).toMatch(/^error ASYM9001: asymgen failed internally: a thrown string/);
  });
});
