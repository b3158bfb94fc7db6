/**
 * The one message a server prints when the store's tables do not fit its schema. `asymgen serve`
 * prefixes startup errors with "asymgen: cannot start the ingest server: " (cli-commands.ts), so
 * the message starts in lower case and says what is wrong first; then one line per problem, each
 * with its way forward, so a user fixes them all in one go.
 */
import { AsymgenError } from "asymgen/errors";
import { quoteIdentifier } from "../stores/quote-identifier.js";
import type { KeptColumn, SchemaProblem } from "./plan-schema-change.js";

/** `"Table"."column"` or `"Table"`. */
function place(problem: { table: string; column: string | null }): string {
  return problem.column === null ? quoteIdentifier(problem.table) : `${quoteIdentifier(problem.table)}.${quoteIdentifier(problem.column)}`;
}

/** One line for a problem: where, what the store has, what the schema asks, the way forward. */
function formatSchemaProblem(problem: SchemaProblem): string {
  return `${place(problem)}: the store has ${problem.was}, the schema asks ${problem.now}; ${problem.wayForward}`;
}

/** The startup message for `problems` (at least one). */
export function formatSchemaProblems(problems: readonly SchemaProblem[]): string {
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return [`the store's tables do not fit the schema (${count}; nothing was changed):`, ...problems.map((problem) => `  ${formatSchemaProblem(problem)}`)].join("\n");
}

/** The notice for columns kept after their property left the schema (a log line, not an error). */
export function formatKeptColumns(kept: readonly KeptColumn[]): string {
  return `kept ${kept.map(place).join(", ")}: no longer in the schema; the old values stay, new rows leave ${kept.length === 1 ? "it" : "them"} NULL`;
}

/** A store whose tables do not fit the schema: a user-facing error (one message, no stack), carrying the problems. */
export class StoreSchemaError extends AsymgenError {
  override name = "StoreSchemaError";
  constructor(readonly problems: readonly SchemaProblem[]) {
    super(formatSchemaProblems(problems));
  }
}
