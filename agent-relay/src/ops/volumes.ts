// Volumes on the host. Everything Pier creates carries the managed label; names and
// ids were checked by the protocol's schemas before they reach a URL path.
import { MANAGED_LABEL } from "../docker/client.ts";
import * as api from "../docker/housekeeping.ts";
import { volumeCreate } from "../docker/endpoints.ts";
import type { VolumeJson, VolumeOpResults } from "../protocol.ts";
import type { OpHandlers } from "./context.ts";

type Filters = Record<string, string[]>;

/** `label`/`dangling` arguments → the engine's `filters` map. */
export function toFilters(args: { label?: string[]; dangling?: boolean; driver?: string }): Filters {
  const filters: Filters = {};
  if (args.label?.length) filters.label = [...args.label];
  if (args.dangling !== undefined) filters.dangling = [String(args.dangling)];
  if (args.driver) filters.driver = [args.driver];
  return filters;
}

type VolumeOps = "volume.list" | "volume.inspect" | "volume.create" | "volume.remove" | "volume.prune";

export const volumeOps: Pick<OpHandlers, VolumeOps> = {
  "volume.list": async (args, { docker, signal }): Promise<VolumeOpResults["volume.list"]> => {
    const list = (await docker.transport.json(api.volumeList, { filters: toFilters(args) }, signal)) as {
      Volumes: VolumeJson[] | null;
      Warnings: string[] | null;
    };
    const volumes = list.Volumes ?? [];
    if (args.usage) {
      // Only the disk-usage call measures volumes (`docker system df -v` does the same).
      const df = (await docker.transport.json(api.systemDf, undefined, signal)) as { Volumes?: VolumeJson[] | null };
      const usage = new Map((df.Volumes ?? []).map((v) => [v.Name, v.UsageData ?? null]));
      for (const volume of volumes) volume.UsageData = usage.get(volume.Name) ?? { Size: -1, RefCount: -1 };
    }
    return { volumes, warnings: list.Warnings ?? [] };
  },

  "volume.inspect": async (args, { docker, signal }) =>
    (await docker.transport.json(api.volumeInspect, { name: args.name }, signal)) as VolumeJson,

  "volume.create": async (args, { docker, signal }) =>
    (await docker.transport.json(
      volumeCreate,
      {
        body: {
          Name: args.name,
          Driver: args.driver,
          DriverOpts: args.driver_opts,
          Labels: { ...args.labels, [MANAGED_LABEL]: "true" },
        },
      },
      signal,
    )) as VolumeJson,

  "volume.remove": async (args, { docker, signal }) => {
    await docker.transport.call(api.volumeRemove, { name: args.name, force: args.force }, signal);
    return { name: args.name, removed: true };
  },

  "volume.prune": async (args, { docker, signal }) => {
    const report = (await docker.transport.json(api.volumePrune, { filters: toFilters(args) }, signal)) as {
      VolumesDeleted: string[] | null;
      SpaceReclaimed: number;
    };
    return { deleted: report.VolumesDeleted ?? [], space_reclaimed: report.SpaceReclaimed ?? 0 };
  },
};
