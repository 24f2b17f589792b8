import { normalizeStats } from "../protocol.ts";
import type { OpHandlers } from "./context.ts";

type OtherOps = "container.stats" | "stats.all" | "system.info" | "system.version";

export const otherOps: Pick<OpHandlers, OtherOps> = {
  "container.stats": async (args, { docker, signal }) => normalizeStats(await docker.statsOnce(args.id, signal), args.id),
  // Answered from memory: the cache is fed by one background stats stream per running container.
  "stats.all": async (_args, { stats }) => ({ at: Date.now(), samples: stats.all() }),
  "system.info": (_args, { docker, signal }) => docker.info(signal),
  "system.version": (_args, { docker, signal }) => docker.version(signal),
};
