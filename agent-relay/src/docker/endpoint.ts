import { InvalidReferenceError } from "./errors.ts";
/**
 * What a status code means for one endpoint: `true` is success, `{ noop }` is success that changed
 * nothing (Docker's 304), a string is a known failure. Any status not listed is unexpected.
 */
export type StatusMeaning = true | { noop: string } | string;
export type StatusMap = Readonly<Record<number, StatusMeaning>>;

export type QueryValue = string | number | boolean | undefined;

/** What undici accepts as a request body: text, bytes, or a stream of bytes. */
export type RawBody = string | Uint8Array | NodeJS.ReadableStream | AsyncIterable<Uint8Array>;

/** How the transport hands back a successful body. */
export type BodyKind = "json" | "empty" | "stream";

/** One Engine API call, described rather than coded (after docker-modem's `statusCodes`). */
export interface Endpoint<P> {
  /** Names the call in errors and logs, e.g. "container.start". */
  readonly name: string;
  readonly method: "GET" | "POST" | "PUT" | "DELETE" | "HEAD";
  /** Without the `/v1.xx` prefix, which the transport adds. */
  readonly path: (params: P) => string;
  readonly query?: (params: P) => Record<string, QueryValue>;
  readonly body?: (params: P) => unknown;
  /** A body sent as is instead of JSON (a build context tar stream). */
  readonly rawBody?: (params: P) => { body: RawBody; contentType: string };
  readonly headers?: (params: P) => Record<string, string>;
  readonly expect: StatusMap;
  readonly response: BodyKind;
  /** `/version` and `/_ping` answer on every version, so they are used to pick one. */
  readonly unversioned?: true;
  /**
   * The engine's words when it refuses because it runs one such call at a time and one is under
   * way (Docker before 23.0: disk usage, and each kind of prune). The transport sends the call
   * again after a pause instead of failing it.
   */
  readonly busy?: RegExp;
}

export function endpoint<P = void>(spec: Endpoint<P>): Endpoint<P> {
  return spec;
}

export function buildQuery(values: Record<string, QueryValue>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    search.set(key, typeof value === "boolean" ? (value ? "1" : "0") : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A reference as one URL path segment. The engine's router cleans paths after decoding them, so
 * `..` (or `.`) as the reference or any `/`-separated part of it would name another endpoint, and a
 * lone surrogate cannot be encoded at all: those are refused here, whatever the caller checked.
 */
export function pathSegment(value: string): string {
  if (value === "" || LONE_SURROGATE.test(value) || value.split("/").some((part) => part === "." || part === "..")) {
    throw new InvalidReferenceError(`not a valid reference: ${JSON.stringify(value)}`);
  }
  return encodeURIComponent(value);
}
