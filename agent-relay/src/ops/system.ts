import { normalizeStats } from "../protocol.ts";
import type { OpHandlers } from "./context.ts";

type OtherOps = "container.stats" | "stats.all" | "image.list" | "image.pull" | "system.info" | "system.version";

export const otherOps: Pick<OpHandlers, OtherOps> = {
  "container.stats": async (args, { docker, signal }) => normalizeStats(await docker.statsOnce(args.id, signal), args.id),
  // Answered from memory: the cache is fed by one background stats stream per running container.
  "stats.all": async (_args, { stats }) => ({ at: Date.now(), samples: stats.all() }),
  "image.list": (args, { docker, signal }) => docker.listImages({ all: args.all }, signal),
  "image.pull": async (args, { docker, signal }) => ({
    image: args.image,
    ...(await docker.pullImage(args.image, { platform: args.platform, auth: args.auth }, signal)),
  }),
  "system.info": (_args, { docker, signal }) => docker.info(signal),
  "system.version": (_args, { docker, signal }) => docker.version(signal),
};
