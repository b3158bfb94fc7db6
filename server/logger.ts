/**
 * Structured logs: one JSON object a line (`time`, `level`, `msg`, then fields) so a log shipper
 * can parse them without a grammar.
 */

/** A log level, from least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** The logger the server writes through. */
export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Creates a JSON-lines logger writing to `write` (stdout by default) at `minLevel` and above. */
export function createLogger(options: { minLevel?: LogLevel; write?: (line: string) => void } = {}): Logger {
  const min = levelRank[options.minLevel ?? "info"];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  return {
    log(level, msg, fields) {
      if (levelRank[level] < min) return;
      const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...fields };
      write(`${JSON.stringify(entry, replaceUnserializable)}\n`);
    },
  };
}

/** A logger that drops everything (tests). */
export const quietLogger: Logger = { log() {} };

// JSON.stringify throws on bigint and prints `{}` for errors; logs must never throw.
function replaceUnserializable(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
