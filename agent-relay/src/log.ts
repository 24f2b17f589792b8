export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogRecord {
  time: string;
  level: LogLevel;
  event: string;
  [field: string]: unknown;
}

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

// A second line of defence: nothing the agent logs should hold a secret, but if a field with one
// of these names ever slips in, it is masked rather than written to the journal.
const SECRET_KEYS = /token|authorization|password|secret|auth/i;

/**
 * One JSON object per line on stdout (journald and `docker logs` keep them whole). `sink` lets
 * tests and embedders watch the records instead.
 */
export function createLogger(options: { level?: LogLevel; sink?: (record: LogRecord) => void } = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const sink = options.sink ?? ((record: LogRecord) => process.stdout.write(`${JSON.stringify(record)}\n`));
  const emit = (level: LogLevel) =>
    function log(event: string, fields: Record<string, unknown> = {}) {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const record: LogRecord = { time: new Date().toISOString(), level, event };
      for (const [key, value] of Object.entries(fields)) {
        record[key] = SECRET_KEYS.test(key) ? "[redacted]" : value instanceof Error ? describeError(value) : value;
      }
      sink(record);
    };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

function describeError(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  if (error.cause instanceof Error) out.cause = describeError(error.cause);
  return out;
}
