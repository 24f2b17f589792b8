import { ChunkWriter } from "./chunker.ts";
import type { DockerClient } from "./docker/client.ts";
import { CancelledError, DeadlineExceededError, toRelayError } from "./errors.ts";
import type { Logger } from "./log.ts";
import type { OpContext, OpHandler, OpHandlers } from "./ops/index.ts";
import type { HostFirewall } from "./firewall.ts";
import type { Transfers } from "./transfer.ts";
import {
  encode,
  isOpName,
  isStreaming,
  OPS,
  relayError,
  transferKind,
  type Cmd,
  type OpName,
  type RelayError,
  type StatsSample,
} from "./protocol.ts";

export interface ExecutorDeps {
  docker: DockerClient;
  handlers: OpHandlers;
  stats: { all(): StatsSample[] };
  /** Sends one text frame; false when the socket is gone (the reply is then lost, as it must be). */
  send(text: string): boolean;
  buffered(): number;
  log: Logger;
  /** Byte transfers in flight (protocol/transfer.ts); transfer ops fail without it. */
  transfers?: Transfers;
  now?: () => number;
  /** The PATH host programs are looked up on (AgentOptions.toolPath). */
  toolPath?: string;
  /** The host's firewall, for the firewall.* ops. */
  firewall?: HostFirewall;
  metrics?: import("./ops/context.ts").MetricsControl;
}

interface Running {
  controller: AbortController;
  op: OpName;
}

/**
 * Runs `cmd`s: validates arguments, bounds each call by its deadline, answers with one `result`
 * or with `chunk`… `end`, and aborts the Docker call on `cancel`, on the deadline, or when the
 * socket drops (the DO has failed the command by then; finishing it would be wasted work).
 */
export class CommandExecutor {
  readonly #running = new Map<string, Running>();
  readonly #deps: ExecutorDeps;
  readonly #now: () => number;

  constructor(deps: ExecutorDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  get inflight(): number {
    return this.#running.size;
  }

  /** Starts a command; settles when its reply has been sent. */
  async run(cmd: Cmd): Promise<void> {
    const { log } = this.#deps;
    if (this.#running.has(cmd.id)) {
      log.warn("duplicate command id ignored", { id: cmd.id, op: cmd.op });
      return;
    }
    if (!isOpName(cmd.op)) {
      this.#fail(cmd.id, false, relayError("unknown_op", `this agent does not implement ${cmd.op}`));
      return;
    }
    const op = cmd.op;
    const parsed = OPS[op].args.safeParse(cmd.args ?? {});
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join(".") || "args"}: ${i.message}`).join("; ");
      this.#fail(cmd.id, isStreaming(op, cmd.args), relayError("invalid_args", detail));
      return;
    }
    const args = parsed.data;
    const streaming = isStreaming(op, args);
    const remaining = cmd.deadline - this.#now();
    if (remaining <= 0) {
      const message = `deadline passed ${-remaining} ms before the agent got the command (check the host clock)`;
      this.#fail(cmd.id, streaming, relayError("deadline_exceeded", message));
      return;
    }

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DeadlineExceededError(`${op} did not finish by its deadline`)), remaining);
    this.#running.set(cmd.id, { controller, op });
    const output = new ChunkWriter({
      send: (data, seq, stream) =>
        this.#deps.send(encode(stream ? { type: "chunk", id: cmd.id, seq, data, stream } : { type: "chunk", id: cmd.id, seq, data })),
      buffered: this.#deps.buffered,
      signal: controller.signal,
    });
    const kind = transferKind(op);
    const transfer = kind ? this.#deps.transfers?.register(cmd.id, kind, controller.signal) : undefined;
    const ctx: OpContext = {
      docker: this.#deps.docker,
      signal: controller.signal,
      output,
      stats: this.#deps.stats,
      toolPath: this.#deps.toolPath,
      firewall: this.#deps.firewall,
      ...(this.#deps.metrics ? { metrics: this.#deps.metrics } : {}),
      ...(transfer?.download ? { download: transfer.download } : {}),
      ...(transfer?.upload ? { upload: transfer.upload } : {}),
    };
    const started = this.#now();
    try {
      const handler = this.#deps.handlers[op] as OpHandler<OpName>;
      const data = await handler(args as never, ctx);
      if (controller.signal.aborted) throw controller.signal.reason;
      if (streaming) {
        output.flush();
        // A streaming op may end with an outcome (deploy.build's image, deploy.run's container).
        this.#deps.send(encode(data === undefined ? { type: "end", id: cmd.id } : { type: "end", id: cmd.id, data }));
      } else {
        this.#deps.send(encode({ type: "result", id: cmd.id, ok: true, data: data ?? null }));
      }
      log.debug("command done", { id: cmd.id, op, ms: this.#now() - started });
    } catch (thrown) {
      const error = toRelayError(controller.signal.aborted ? controller.signal.reason : thrown);
      if (streaming) output.flush();
      else output.discard();
      this.#fail(cmd.id, streaming, error);
      log.info("command failed", { id: cmd.id, op, code: error.code, status: error.status, ms: this.#now() - started });
    } finally {
      clearTimeout(timer);
      transfer?.release();
      this.#running.delete(cmd.id);
    }
  }

  cancel(id: string): void {
    this.#running.get(id)?.controller.abort(new CancelledError("cancelled by the server"));
  }

  /** Aborts everything in flight, e.g. when the socket dropped or the agent stops. */
  abortAll(reason: Error): void {
    for (const { controller } of this.#running.values()) controller.abort(reason);
  }

  #fail(id: string, streaming: boolean, error: RelayError): void {
    this.#deps.send(encode(streaming ? { type: "end", id, error } : { type: "result", id, ok: false, error }));
  }
}
