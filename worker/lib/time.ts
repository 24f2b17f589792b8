/** UTC ISO 8601 with milliseconds: the one timestamp format stored and served by the canonical API. */
export const nowIso = (): string => new Date().toISOString();

export const isoAfterSeconds = (seconds: number, from = Date.now()): string => new Date(from + seconds * 1000).toISOString();

/** `2026-01-28T21:33:51Z`: whole seconds, as Go's time.RFC3339 prints a UTC time. */
export const rfc3339Seconds = (iso: string): string => iso.replace(/\.\d+Z$/, "Z");

/** `2026-01-28 21:33:51`: the SQL DATETIME text some compatibility surfaces show. */
export const sqlDateTime = (iso: string): string => rfc3339Seconds(iso).replace("T", " ").replace("Z", "");

/** `2025-01-01T00:00:00.000000Z`: Laravel's default JSON date format (microseconds). */
export const laravelDateTime = (iso: string): string => iso.replace(/\.(\d{3})Z$/, ".$1000Z");
