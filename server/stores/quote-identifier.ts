/**
 * SQL identifier quoting, shared by the SQL stores.
 */

/** Quotes an SQL identifier (SQLite and PostgreSQL share the rule: double quotes, doubled inside). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
