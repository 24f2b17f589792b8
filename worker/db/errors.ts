// What the Worker reads from, and says about, a failed database call. drizzle wraps every failed
// query in a DrizzleQueryError whose message (and so its stack) carries the parameter values —
// password hashes, sealed secrets, tokens' hashes — so neither is ever logged or shown as is.
import { DrizzleQueryError } from "drizzle-orm";

type ErrorLike = { name?: unknown; message?: unknown; cause?: unknown; stack?: unknown };

const isQueryError = (err: unknown): err is DrizzleQueryError =>
  err instanceof DrizzleQueryError || (err instanceof Error && typeof (err as { query?: unknown }).query === "string" && "params" in err);

function describe(err: unknown, depth = 0): string {
  if (depth > 4) return "…";
  if (isQueryError(err)) {
    const cause = err.cause === undefined ? "" : `: ${describe(err.cause, depth + 1)}`;
    return `Failed query: ${err.query}${cause}`;
  }
  if (err instanceof Error) return depth > 0 ? `${err.name}: ${err.message}` : err.message;
  return String(err);
}

/**
 * One line about an error, safe for logs and for messages people read: a failed query shows its
 * SQL (placeholders only) and its cause, never its parameter values.
 */
export function errorText(err: unknown): string {
  return describe(err);
}

/** `error` and `stack` fields for a JSON log line, with the same care as `errorText`. */
export function errorLogFields(err: unknown): { error: string; stack?: string } {
  const error = err instanceof Error && !isQueryError(err) ? `${err.name}: ${err.message}` : errorText(err);
  const stack = (err as ErrorLike | null)?.stack;
  if (typeof stack !== "string") return { error };
  // A stack starts with the message, which is what may hold the values: keep only the frames.
  const frames = stack.indexOf("\n    at ");
  return { error, stack: frames >= 0 ? `${error}${stack.slice(frames)}` : error };
}

/**
 * The unique index a write ran into, as SQLite names it (`UNIQUE constraint failed: t.a, t.b`),
 * found anywhere in the error's cause chain; undefined for any other error.
 */
export function uniqueViolation(err: unknown): { table: string; columns: string[] } | undefined {
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 5; e = e.cause as ErrorLike | undefined, depth++) {
    // A query error's own message holds the parameter values, which could spell anything.
    if (isQueryError(e)) continue;
    const m = typeof e.message === "string" ? /UNIQUE constraint failed: ([\w.]+(?:, [\w.]+)*)/.exec(e.message) : null;
    if (!m) continue;
    const qualified = m[1]!.split(", ");
    return { table: qualified[0]!.split(".")[0]!, columns: qualified.map((c) => c.slice(c.indexOf(".") + 1)) };
  }
  return undefined;
}

/** True when `err` is a unique violation on `table` (and, if given, an index that has `column`). */
export function isUniqueViolation(err: unknown, table: string, column?: string): boolean {
  const hit = uniqueViolation(err);
  return hit !== undefined && hit.table === table && (column === undefined || hit.columns.includes(column));
}
