/**
 * Turns a field initializer into a DefaultInfo: Realm JS keeps literals as values and wraps
 * anything else in a function evaluated per object.
 */
import { ts } from "ts-morph";
import type { DefaultInfo } from "../model/model-info.js";

/** The default a property's initializer declares. */
export function analyzeDefault(initializer: ts.Expression, file: ts.SourceFile): DefaultInfo {
  const text = initializer.getText(file);
  let expression = initializer;
  while (ts.isParenthesizedExpression(expression)) expression = expression.expression;
  if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) return { kind: "literal", value: expression.text, text };
  if (ts.isNumericLiteral(expression)) return { kind: "literal", value: readNumber(expression), text };
  if (
    ts.isPrefixUnaryExpression(expression) &&
    expression.operator === ts.SyntaxKind.MinusToken &&
    ts.isNumericLiteral(expression.operand)
  ) {
    return { kind: "literal", value: -readNumber(expression.operand), text };
  }
  if (expression.kind === ts.SyntaxKind.TrueKeyword) return { kind: "literal", value: true, text };
  if (expression.kind === ts.SyntaxKind.FalseKeyword) return { kind: "literal", value: false, text };
  if (expression.kind === ts.SyntaxKind.NullKeyword) return { kind: "literal", value: null, text };
  return { kind: "expression", text };
}

/** The value of a numeric literal, separators (`1_000`) and radix prefixes (`0x10`) included. */
function readNumber(literal: ts.NumericLiteral): number {
  return Number(literal.text.replace(/_/g, ""));
}
