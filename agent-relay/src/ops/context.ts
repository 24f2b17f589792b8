import type { ChunkWriter } from "../chunker.ts";
import type { DockerClient } from "../docker/client.ts";
import type { OpArgs, OpName, StatsSample } from "../protocol.ts";
import type { HostFirewall } from "../firewall.ts";
import type { DownloadSink, UploadSource } from "../transfer.ts";

export interface OpContext {
  docker: DockerClient;
  /** Aborts on the command's deadline, on `cancel`, and when the socket drops. */
  signal: AbortSignal;
  /** For streaming commands: where output goes as `chunk`s. */
  output: ChunkWriter;
  /** The live stats cache. */
  stats: { all(): StatsSample[] };
  /** For download ops (OPS[op].transfer): where the bytes go, as the relay's credit allows. */
  download?: DownloadSink;
  /** For upload ops: the bytes the relay sends, read as the consumer (the engine) takes them. */
  upload?: UploadSource;
  /** The PATH host programs (Docker Compose) are looked up on; the agent's own when unset. */
  toolPath?: string;
  /** The host's firewall (firewall groups); absent in agents embedded without one. */
  firewall?: HostFirewall;
  /** The host sampler's controls; absent when sampling is off (PIER_METRICS_INTERVAL_MS=0). */
  metrics?: MetricsControl;
}

export interface MetricsControl {
  /** Samples every `intervalMs` from now on (null: the agent's own setting); answers what is in effect. */
  configure(intervalMs: number | null): { interval_ms: number; default_interval_ms: number };
}

/** Returns `result.data`; a streaming handler returns once its stream is over. */
export type OpHandler<O extends OpName> = (args: OpArgs<O>, ctx: OpContext) => Promise<unknown>;
export type OpHandlers = { [O in OpName]: OpHandler<O> };
