import { randomBytes } from "node:crypto";
import { isObject, type BatchResult, type CursorEntry, type StreamResult } from "./proto.ts";
import { Stream, toProtoError } from "./stream.ts";

export type HranaOptions = {
  path: string;
  idleStreamTimeoutMs: number;
  busyTimeoutMs: number;
  log: (line: string) => void;
};

/** What to answer, independent of the HTTP plumbing. */
export type Reply = { status: number; json: unknown } | { status: number; text: string };

/**
 * The streams of Hrana over HTTP. A stream lives between requests under a baton that is good for
 * exactly one request, which is what keeps the requests of a stream sequential.
 */
export class Hrana {
  readonly #opts: HranaOptions;
  readonly #parked = new Map<string, { stream: Stream; timer: NodeJS.Timeout }>();
  readonly #open = new Set<Stream>();

  constructor(opts: HranaOptions) {
    this.#opts = opts;
  }

  /** POST /v2/pipeline and /v3/pipeline (v3 only adds requests that v2 clients never send). */
  async pipeline(body: unknown): Promise<Reply> {
    if (!isObject(body) || !Array.isArray(body.requests)) {
      return badRequest("The body must be an object with a requests array");
    }
    return this.#withStream(body.baton, async (stream) => {
      const results: StreamResult[] = [];
      for (const request of body.requests as unknown[]) results.push(await stream.handle(request));
      return (baton) => ({ status: 200, json: { baton, base_url: null, results } });
    });
  }

  /** POST /v3/cursor: the batch result as newline-separated JSON entries. */
  async cursor(body: unknown): Promise<Reply> {
    if (!isObject(body) || !isObject(body.batch)) return badRequest("The body must be an object with a batch");
    return this.#withStream(body.baton, async (stream) => {
      let entries: CursorEntry[];
      try {
        entries = cursorEntries(await stream.batch(body.batch));
      } catch (e) {
        entries = [{ type: "error", error: toProtoError(e) }];
      }
      return (baton) => ({
        status: 200,
        text: [{ baton, base_url: null }, ...entries].map((line) => `${JSON.stringify(line)}\n`).join(""),
      });
    });
  }

  close(): void {
    for (const { timer } of this.#parked.values()) clearTimeout(timer);
    this.#parked.clear();
    for (const stream of this.#open) stream.close();
    this.#open.clear();
  }

  /** `work` answers with a function of the stream's next baton, which exists only once it is done. */
  async #withStream(baton: unknown, work: (stream: Stream) => Promise<(baton: string | null) => Reply>): Promise<Reply> {
    if (baton != null && typeof baton !== "string") return badRequest("The baton must be a string or null");
    const stream = baton == null ? this.#openStream() : this.#take(baton);
    if (stream === undefined) {
      return {
        status: 400,
        json: { message: "The stream has expired or the baton is invalid", code: "STREAM_EXPIRED" },
      };
    }
    try {
      const reply = await work(stream);
      return reply(this.#park(stream));
    } catch (e) {
      this.#discard(stream);
      throw e;
    }
  }

  #openStream(): Stream {
    const stream = new Stream(this.#opts.path, this.#opts.busyTimeoutMs, this.#opts.log);
    this.#open.add(stream);
    return stream;
  }

  #take(baton: string): Stream | undefined {
    const parked = this.#parked.get(baton);
    if (parked === undefined) return undefined;
    this.#parked.delete(baton);
    clearTimeout(parked.timer);
    return parked.stream;
  }

  #park(stream: Stream): string | null {
    if (stream.closed) {
      this.#open.delete(stream);
      return null;
    }
    const baton = randomBytes(24).toString("base64url");
    const timer = setTimeout(() => {
      this.#parked.delete(baton);
      this.#discard(stream);
      this.#opts.log(`stream expired after ${this.#opts.idleStreamTimeoutMs} ms idle`);
    }, this.#opts.idleStreamTimeoutMs);
    timer.unref();
    this.#parked.set(baton, { stream, timer });
    return baton;
  }

  #discard(stream: Stream): void {
    this.#open.delete(stream);
    stream.close();
  }
}

function cursorEntries(result: BatchResult): CursorEntry[] {
  return result.step_results.flatMap((res, step): CursorEntry[] => {
    const error = result.step_errors[step];
    if (error) return [{ type: "step_error", step, error }];
    if (!res) return [];
    return [
      { type: "step_begin", step, cols: res.cols },
      ...res.rows.map((row): CursorEntry => ({ type: "row", row })),
      { type: "step_end", affected_row_count: res.affected_row_count, last_insert_rowid: res.last_insert_rowid },
    ];
  });
}

function badRequest(message: string): Reply {
  return { status: 400, json: { message, code: "PROTOCOL_ERROR" } };
}
