import { normalizeStats } from "../protocol.ts";
import { InvalidArgsError } from "../errors.ts";
import type { OpHandlers } from "./context.ts";

type OtherOps = "container.stats" | "stats.all" | "system.info" | "system.version" | "metrics.configure";

export const otherOps: Pick<OpHandlers, OtherOps> = {
  "container.stats": async (args, { docker, signal }) => normalizeStats(await docker.statsOnce(args.id, signal), args.id),
  // Answered from memory: the cache is fed by one background stats stream per running container.
  "stats.all": async (_args, { stats }) => ({ at: Date.now(), samples: stats.all() }),
  "system.info": (_args, { docker, signal }) => docker.info(signal),
  "system.version": (_args, { docker, signal }) => docker.version(signal),
  "metrics.configure": async (args, { metrics }) => {
    if (!metrics) throw new InvalidArgsError("This agent does not sample host metrics (PIER_METRICS_INTERVAL_MS=0): nothing to configure.");
    return metrics.configure(args.interval_ms);
  },
};
