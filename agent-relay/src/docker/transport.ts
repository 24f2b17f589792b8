import type { Duplex } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { Agent, type Dispatcher } from "undici";
import { buildQuery, type Endpoint, type RawBody } from "./endpoint.ts";
import { DockerError, DockerUnavailableError } from "./errors.ts";
import type { DockerEndpoint } from "./host.ts";

/** The Engine API version the agent is written against; newer engines still serve it. */
export const PREFERRED_API_VERSION = "1.41";

export type ResponseBody = Dispatcher.ResponseData["body"];

export interface DockerReply {
  status: number;
  /** Set when the engine said the call changed nothing (a 304 the endpoint maps to `{ noop }`). */
  noop?: string;
  headers: Dispatcher.ResponseData["headers"];
  body: ResponseBody;
}

const ERROR_BODY_LIMIT = 64 * 1024;

/** A call the engine refused as busy (`Endpoint.busy`) is sent again up to this many times in all, */
const BUSY_ATTEMPTS = 30;
/** after a pause growing by this much each time, up to a second (about 25 s in all). */
const BUSY_PAUSE_MS = 100;

/**
 * One undici dispatcher for the whole process, talking HTTP/1.1 to the engine. Timeouts are off:
 * event and stats streams idle for minutes on purpose, and every call carries an AbortSignal that
 * bounds it instead.
 */
export function createDockerDispatcher(where: DockerEndpoint): Dispatcher {
  return new Agent({
    connect: where.kind === "unix" ? { socketPath: where.socketPath } : {},
    headersTimeout: 0,
    bodyTimeout: 0,
    keepAliveTimeout: 10_000,
    // The engine speaks HTTP/1.1 (its attach and exec streams hijack the connection), and the
    // bundle leaves undici's HTTP/2 client out (agent-relay/build.ts).
    allowH2: false,
  });
}

export class DockerTransport {
  readonly dispatcher: Dispatcher;
  readonly where: string;
  apiVersion = PREFERRED_API_VERSION;
  readonly #origin: string;

  constructor(where: DockerEndpoint, dispatcher: Dispatcher = createDockerDispatcher(where)) {
    this.dispatcher = dispatcher;
    this.#origin = where.kind === "unix" ? "http://localhost" : where.origin;
    this.where = where.kind === "unix" ? `unix://${where.socketPath}` : where.origin;
  }

  /**
   * The one place an Engine API call happens: builds the request from the descriptor, and turns
   * any status the descriptor does not expect into a DockerError carrying the engine's message.
   * A successful body is left unread for the caller. A call the engine refuses as busy
   * (`Endpoint.busy`) is sent again after a pause.
   */
  async send<P>(endpoint: Endpoint<P>, params: P, signal: AbortSignal): Promise<DockerReply> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#sendOnce(endpoint, params, signal);
      } catch (error) {
        const busy = endpoint.busy && error instanceof DockerError && endpoint.busy.test(error.engineMessage);
        if (!busy || attempt >= BUSY_ATTEMPTS) throw error;
        await pause(Math.min(BUSY_PAUSE_MS * attempt, 1000), signal);
      }
    }
  }

  async #sendOnce<P>(endpoint: Endpoint<P>, params: P, signal: AbortSignal): Promise<DockerReply> {
    const prefix = endpoint.unversioned ? "" : `/v${this.apiVersion}`;
    const path = prefix + endpoint.path(params) + buildQuery(endpoint.query?.(params) ?? {});
    const headers: Record<string, string> = { ...endpoint.headers?.(params) };
    let body: RawBody | undefined;
    if (endpoint.body) {
      body = JSON.stringify(endpoint.body(params));
      headers["content-type"] = "application/json";
    } else if (endpoint.rawBody) {
      const raw = endpoint.rawBody(params);
      body = raw.body;
      headers["content-type"] = raw.contentType;
    }

    let response: Dispatcher.ResponseData;
    try {
      // undici streams any async iterable body (the build context) though its types list fewer.
      response = await this.dispatcher.request({
        origin: this.#origin,
        path,
        method: endpoint.method,
        headers,
        body: body as Dispatcher.DispatchOptions["body"],
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      throw new DockerUnavailableError(this.where, { cause: error });
    }

    const meaning = endpoint.expect[response.statusCode];
    if (meaning === true) return { status: response.statusCode, headers: response.headers, body: response.body };
    if (typeof meaning === "object") {
      await response.body.dump();
      return { status: response.statusCode, noop: meaning.noop, headers: response.headers, body: response.body };
    }
    const engineMessage = await readEngineMessage(response.body, signal);
    throw new DockerError(endpoint.name, response.statusCode, engineMessage, meaning);
  }

  /**
   * A hijacked connection (exec start, attach): sent with `Upgrade: tcp`, so the engine answers
   * 101 and the socket then carries the process's raw stream both ways. Call it only once the
   * target is known to exist: a refusal here has no engine message to keep (undici reads no body
   * from a response that is not 101).
   */
  async upgrade<P>(endpoint: Endpoint<P>, params: P, signal: AbortSignal): Promise<Duplex> {
    const path = `/v${this.apiVersion}${endpoint.path(params)}${buildQuery(endpoint.query?.(params) ?? {})}`;
    const body = endpoint.body ? JSON.stringify(endpoint.body(params)) : undefined;
    try {
      // undici sends `origin` and `body` on an upgrade like on any request; its types omit them.
      const options = {
        origin: this.#origin,
        path,
        method: endpoint.method,
        protocol: "tcp",
        headers: body ? { "content-type": "application/json" } : {},
        body,
        signal,
      } as Dispatcher.UpgradeOptions;
      const { socket } = await this.dispatcher.upgrade(options);
      return socket;
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      throw new DockerError(endpoint.name, 502, `the engine refused to hijack the connection: ${(error as Error).message}`);
    }
  }

  /** Sends and parses a JSON body. */
  async json<P>(endpoint: Endpoint<P>, params: P, signal: AbortSignal): Promise<unknown> {
    const reply = await this.send(endpoint, params, signal);
    if (reply.noop !== undefined) return undefined;
    return await guard(reply.body.json(), signal);
  }

  /** Sends and discards the body; tells whether the call changed anything. */
  async call<P>(endpoint: Endpoint<P>, params: P, signal: AbortSignal): Promise<{ changed: boolean; note?: string }> {
    const reply = await this.send(endpoint, params, signal);
    if (reply.noop !== undefined) return { changed: false, note: reply.noop };
    await guard(reply.body.dump(), signal);
    return { changed: true };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** The engine's error bodies are `{"message": "..."}`; anything else is kept as text. */
async function readEngineMessage(body: ResponseBody, signal: AbortSignal): Promise<string> {
  let text = "";
  try {
    for await (const piece of body) {
      text += typeof piece === "string" ? piece : Buffer.from(piece).toString("utf8");
      if (text.length > ERROR_BODY_LIMIT) {
        body.destroy();
        break;
      }
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason ?? error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && "message" in parsed && typeof parsed.message === "string") {
      return parsed.message;
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim().slice(0, 2000);
}

/** Rethrows the abort reason (deadline, cancel) instead of undici's generic abort error. */
async function guard<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    if (signal.aborted) throw signal.reason ?? error;
    throw error;
  }
}

/** Waits `ms`, or ends with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return guard(delay(ms, undefined, { signal }), signal);
}
