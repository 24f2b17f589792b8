// The JSON shapes of Hrana over HTTP (versions 2 and 3), as in tursodatabase/libsql
// docs/HTTP_V2_SPEC.md and docs/HRANA_3_SPEC.md. Incoming messages are typed loosely on purpose:
// they come straight from JSON.parse and are validated where they are used.

export type Value =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

export type ProtoError = { message: string; code: string };

export type Col = { name: string | null; decltype: string | null };

export type StmtResult = {
  cols: Col[];
  rows: Value[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
  rows_read: number;
  rows_written: number;
  query_duration_ms: number;
};

export type BatchResult = {
  step_results: (StmtResult | null)[];
  step_errors: (ProtoError | null)[];
};

export type DescribeResult = {
  params: { name: string | null }[];
  cols: Col[];
  is_explain: boolean;
  is_readonly: boolean;
};

export type StreamResponse =
  | { type: "close" | "sequence" | "store_sql" | "close_sql" }
  | { type: "execute"; result: StmtResult }
  | { type: "batch"; result: BatchResult }
  | { type: "describe"; result: DescribeResult }
  | { type: "get_autocommit"; is_autocommit: boolean };

export type StreamResult = { type: "ok"; response: StreamResponse } | { type: "error"; error: ProtoError };

export type CursorEntry =
  | { type: "step_begin"; step: number; cols: Col[] }
  | { type: "step_end"; affected_row_count: number; last_insert_rowid: string | null }
  | { type: "step_error"; step: number; error: ProtoError }
  | { type: "row"; row: Value[] }
  | { type: "error"; error: ProtoError };

/** An error reported to the client as a Hrana `Error`, never as a crash. */
export class HranaError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
