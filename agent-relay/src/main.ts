/**
 * The agent process: configuration from the environment, one agent, clean shutdown on
 * SIGTERM/SIGINT. `npm run agent`, the systemd unit, the container image and `pier-agent` all
 * end up here.
 */
import { startAgent } from "./agent.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { createLogger } from "./log.ts";

// EX_CONFIG from sysexits.h; the systemd unit lists it in RestartPreventExitStatus so a missing
// token is reported once instead of restarting in a loop.
const EXIT_CONFIG = 78;

function main(): void {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger().error("invalid configuration", { message: error.message });
    process.exit(EXIT_CONFIG);
  }

  const agent = startAgent({
    url: config.url,
    token: config.token,
    dockerHost: config.dockerHost,
    logLevel: config.logLevel,
    statsPushMs: config.statsPushMs,
    metricsIntervalMs: config.metricsIntervalMs,
    metricsFlushMs: config.metricsFlushMs,
    metricsDiskPath: config.metricsDiskPath,
    heartbeatMs: config.heartbeatMs,
  });

  const shutdown = (signal: NodeJS.Signals) => {
    // A second signal while stopping means "now".
    process.once(signal, () => process.exit(1));
    agent.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main();
