import type { BackoffPolicy } from "./backoff.ts";
import { connectUrl } from "./config.ts";
import { RelayConnection, type ConnectionStatus } from "./connection.ts";
import { DockerClient } from "./docker/client.ts";
import { DisconnectedError } from "./errors.ts";
import { EventForwarder } from "./events.ts";
import { HostFirewall } from "./firewall.ts";
import { CommandExecutor } from "./executor.ts";
import { buildHello } from "./host-info.ts";
import { HostSampler, MetricsReporter } from "./host-metrics.ts";
import { createLogger, type Logger, type LogLevel, type LogRecord } from "./log.ts";
import { handlers } from "./ops/index.ts";
import { ACK_AFTER_MS, DEFAULT_METRICS_INTERVAL_MS, encode, OP_NAMES, TERMINAL_CAPABILITY, type ServerMessage } from "./protocol.ts";
import { StatsCache } from "./stats-cache.ts";
import { Terminals } from "./terminal.ts";
import { Transfers } from "./transfer.ts";
import { AGENT_VERSION } from "./version.ts";

export interface AgentOptions {
  /** The control plane, e.g. http://127.0.0.1:8787 (ws/wss is derived). */
  url: string;
  token: string;
  /** `unix:///var/run/docker.sock` (default) or `tcp://host:port`. */
  dockerHost?: string;
  logLevel?: LogLevel;
  /** Receives every log record instead of stdout (tests, embedding). */
  onLog?: (record: LogRecord) => void;
  /** Share one Docker client between agents in one process (benchmarks simulating many hosts). */
  docker?: DockerClient;
  /** Overrides the reported hostname (simulated agents). */
  hostname?: string;
  /** Follow `/events` and forward them (default true). */
  events?: boolean;
  /** Keep the live stats cache (default true). */
  statsCache?: boolean;
  /** Push a `stats` message this often; 0 turns it off (default 60 s). */
  statsPushMs?: number;
  /** Sample the host's CPU, memory, disk, network and load this often; 0 turns it off (default 15 s). */
  metricsIntervalMs?: number;
  /** Send the samples taken so far this often, as one `metrics` message (default 60 s). */
  metricsFlushMs?: number;
  /** The filesystem reported as "disk" (default `/`). */
  metricsDiskPath?: string;
  /** The PATH host programs such as Docker Compose are looked up on (default: the agent's PATH). */
  toolPath?: string;
  /** The iptables command firewall groups run (default `["iptables"]`; `-restore` is appended for restores). */
  iptables?: string[];
  heartbeatMs?: number;
  backoff?: BackoffPolicy;
  /** Wait after a rejected token or a takeover (default 5 min). */
  longBackoffMs?: number;
  stableAfterMs?: number;
  eventFlushMs?: number;
  eventBatchMax?: number;
  statsResyncMs?: number;
  random?: () => number;
}

export interface AgentStatus {
  connection: ConnectionStatus;
  /** Commands being executed. */
  inflight: number;
  /** Byte transfers (downloads and uploads) in flight. */
  transfers: number;
  /** Containers whose stats the cache is following. */
  statsFollowing: number;
  /** Events waiting for the socket. */
  eventsBuffered: number;
}

export interface RunningAgent {
  readonly version: string;
  status(): AgentStatus;
  /** Resolves once the Docker event feed is subscribed (never, with `events: false`). */
  readonly eventsReady: Promise<void>;
  /** Closes the socket with 1000, stops every stream, and releases the Docker connection. */
  stop(): Promise<void>;
}

/** Runs one agent in this process: the WebSocket to the control plane and everything behind it. */
export function startAgent(options: AgentOptions): RunningAgent {
  const log: Logger = createLogger({ level: options.logLevel ?? "info", sink: options.onLog });
  const ownsDocker = !options.docker;
  const docker = options.docker ?? new DockerClient({ host: options.dockerHost });
  const stats = new StatsCache(docker, log, { resyncMs: options.statsResyncMs });
  const firewall = new HostFirewall(docker, log, { iptables: options.iptables });

  // Declared before use by the callbacks below; assigned right after.
  let connection!: RelayConnection;
  const events = new EventForwarder(docker, log, {
    send: (batch) => connection.send(encode({ type: "event", events: batch })),
    observe: (event) => {
      stats.onEvent(event);
      firewall.onEvent(event);
    },
    flushMs: options.eventFlushMs,
    batchMax: options.eventBatchMax,
  });
  const transfers = new Transfers({
    send: (text) => connection.send(text),
    sendBinary: (frame) => connection.sendBinary(frame),
    log,
  });
  const metricsIntervalMs = options.metricsIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS;
  const metrics =
    metricsIntervalMs > 0
      ? new MetricsReporter({
          intervalMs: metricsIntervalMs,
          flushMs: options.metricsFlushMs ?? 60_000,
          sampler: new HostSampler(log, { diskPath: options.metricsDiskPath }),
          containers: () => ({ counts: stats.counts(), samples: stats.all() }),
          send: (samples) => connection.send(encode({ type: "metrics", sent_at: Date.now(), samples })),
          log,
        })
      : undefined;
  const metricsControl = metrics && {
    configure: (intervalMs: number | null) => {
      metrics.setInterval(intervalMs);
      log.info("metrics sampling interval set", {
        interval_ms: metrics.intervalMs,
        by: intervalMs === null ? "agent default" : "control plane",
      });
      return { interval_ms: metrics.intervalMs, default_interval_ms: metricsIntervalMs };
    },
  };

  const executor = new CommandExecutor({
    docker,
    handlers,
    stats,
    send: (text) => connection.send(text),
    buffered: () => connection.bufferedAmount,
    log,
    transfers,
    toolPath: options.toolPath,
    firewall,
    ...(metricsControl ? { metrics: metricsControl } : {}),
  });

  const terminals = new Terminals({
    docker,
    send: (text) => connection.send(text),
    sendBinary: (frame) => connection.sendBinary(frame),
    log,
  });

  const onMessage = (message: ServerMessage) => {
    switch (message.type) {
      case "cmd": {
        // The server fails a command that is not acknowledged within seconds (a frozen agent). A
        // reply sent within ACK_AFTER_MS acknowledges it; only a slower command gets an ack of its
        // own, so a quick one costs the host's relay one message, not two.
        const ack = setTimeout(() => connection.send(encode({ type: "ack", id: message.id })), ACK_AFTER_MS);
        return void executor.run(message).finally(() => clearTimeout(ack));
      }
      case "cancel":
        return executor.cancel(message.id);
      case "ping":
        return void connection.send(encode({ type: "pong" }));
      case "term_open":
        return void terminals.start(message);
      case "term_resize":
        return void terminals.resize(message.id, message.cols, message.rows);
      case "term_close":
        return void terminals.close(message.id);
      case "term_ack":
        return terminals.ack(message.id, message.bytes);
      case "transfer_credit":
        return transfers.credit(message.id, message.bytes);
      case "transfer_eof":
        return transfers.eof(message.id);
      case "pong":
        return;
    }
  };

  const onOpen = async () => {
    const hello = await buildHello(docker, {
      capabilities: [...OP_NAMES, TERMINAL_CAPABILITY],
      log,
      hostname: options.hostname,
      containers: stats.counts(),
      heartbeatMs: connection.heartbeatMs,
    });
    if (!connection.send(encode(hello))) return;
    events.flush();
    metrics?.flush();
  };

  connection = new RelayConnection({
    url: connectUrl(options.url),
    token: options.token,
    userAgent: `pier-agent/${AGENT_VERSION}`,
    log,
    onOpen: () => void onOpen(),
    onMessage,
    // Binary frames are a transfer's bytes (first byte 0) or a terminal's keystrokes.
    onBinary: (frame) => {
      if (!transfers.frame(frame)) terminals.input(frame);
    },
    // The server fails in-flight commands itself when the socket drops; stop the Docker work too.
    onClose: () => {
      executor.abortAll(new DisconnectedError("the connection to the control plane dropped"));
      // The relay closed every client terminal with the link; their processes end here.
      void terminals.closeAll();
    },
    heartbeatMs: options.heartbeatMs,
    backoff: options.backoff,
    longBackoffMs: options.longBackoffMs,
    stableAfterMs: options.stableAfterMs,
    random: options.random,
  });

  const useEvents = options.events !== false;
  const useStats = options.statsCache !== false;
  if (useStats) stats.start();
  if (useEvents) events.start();
  metrics?.start();

  const statsPushMs = options.statsPushMs ?? 60_000;
  const statsPush =
    useStats && statsPushMs > 0
      ? setInterval(() => {
          if (!connection.isOpen) return;
          const counts = stats.counts();
          const message = { type: "stats" as const, at: Date.now(), samples: stats.all() };
          connection.send(encode(counts ? { ...message, containers: counts } : message));
        }, statsPushMs)
      : undefined;

  log.info("agent starting", {
    version: AGENT_VERSION,
    url: options.url,
    docker: docker.transport.where,
  });
  connection.start();

  let stopping: Promise<void> | undefined;
  return {
    version: AGENT_VERSION,
    eventsReady: useEvents ? events.subscribed : new Promise(() => {}),
    status: () => ({
      connection: connection.status,
      inflight: executor.inflight,
      transfers: transfers.open,
      statsFollowing: stats.following,
      eventsBuffered: events.buffered,
    }),
    stop: () =>
      (stopping ??= (async () => {
        log.info("agent stopping");
        clearInterval(statsPush);
        metrics?.stop();
        firewall.stop();
        executor.abortAll(new DisconnectedError("the agent is shutting down"));
        await terminals.closeAll();
        await connection.stop();
        await Promise.allSettled([events.stop(), stats.stop()]);
        if (ownsDocker) await docker.close();
        log.info("agent stopped");
      })()),
  };
}
