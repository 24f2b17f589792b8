// Disk usage as `docker system df` reports it, and `docker system prune` as one streamed
// operation: a progress line per step, the deleted objects and the space reclaimed at the end.
import * as api from "../docker/housekeeping.ts";
import type { DiskUsageRow, PullProgress, SystemPruneResult } from "../protocol.ts";
import type { OpHandlers } from "./context.ts";

interface DfImage {
  Containers: number;
  Size: number;
  SharedSize: number;
}
interface DfContainer {
  State: string;
  SizeRw?: number;
}
interface DfVolume {
  UsageData?: { Size: number; RefCount: number } | null;
}
interface DfBuildCache {
  Size: number;
  InUse: boolean;
  Shared: boolean;
}
export interface DiskUsageDoc {
  LayersSize?: number;
  Images?: DfImage[] | null;
  Containers?: DfContainer[] | null;
  Volumes?: DfVolume[] | null;
  BuildCache?: DfBuildCache[] | null;
}

/**
 * The four rows of `docker system df`, computed the way the Docker CLI computes them
 * (cli/command/formatter/disk_usage.go): images count their shared layers once, a container is
 * active while running, paused or restarting, and a volume's size is unknown (-1) on some drivers.
 */
export function diskUsageRows(df: DiskUsageDoc): DiskUsageRow[] {
  const images = df.Images ?? [];
  const containers = df.Containers ?? [];
  const volumes = df.Volumes ?? [];
  const cache = df.BuildCache ?? [];

  const imagesSize = df.LayersSize ?? 0;
  let imagesUsed = 0;
  for (const image of images) {
    if (image.Containers > 0 && image.Size !== -1 && image.SharedSize !== -1) imagesUsed += image.Size - image.SharedSize;
  }

  const activeContainer = (c: DfContainer) => /running|paused|restarting/.test(c.State);
  const containersSize = containers.reduce((sum, c) => sum + (c.SizeRw ?? 0), 0);
  const containersIdle = containers.filter((c) => !activeContainer(c)).reduce((sum, c) => sum + (c.SizeRw ?? 0), 0);

  const volumeSize = (v: DfVolume) => (v.UsageData && v.UsageData.Size !== -1 ? v.UsageData.Size : 0);
  const volumesSize = volumes.reduce((sum, v) => sum + volumeSize(v), 0);
  const volumesIdle = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((sum, v) => sum + volumeSize(v), 0);

  const cacheSize = cache.filter((b) => !b.Shared).reduce((sum, b) => sum + b.Size, 0);
  const cacheInUse = cache.filter((b) => b.InUse && !b.Shared).reduce((sum, b) => sum + b.Size, 0);

  return [
    {
      type: "Images",
      total: images.length,
      active: images.filter((i) => i.Containers > 0).length,
      size: imagesSize,
      reclaimable: Math.max(0, imagesSize - imagesUsed),
    },
    {
      type: "Containers",
      total: containers.length,
      active: containers.filter(activeContainer).length,
      size: containersSize,
      reclaimable: containersIdle,
    },
    {
      type: "Local Volumes",
      total: volumes.length,
      active: volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length,
      size: volumesSize,
      reclaimable: volumesIdle,
    },
    {
      type: "Build Cache",
      total: cache.length,
      active: cache.filter((b) => b.InUse).length,
      size: cacheSize,
      reclaimable: cacheSize - cacheInUse,
    },
  ];
}

type Filters = Record<string, string[]>;

export const housekeepingOps: Pick<OpHandlers, "system.df" | "system.prune"> = {
  "system.df": async (_args, { docker, signal }) => ({
    rows: diskUsageRows((await docker.transport.json(api.systemDf, undefined, signal)) as DiskUsageDoc),
  }),

  "system.prune": async (args, { docker, signal, output }): Promise<SystemPruneResult> => {
    const label: Filters = args.label?.length ? { label: [...args.label] } : {};
    const until: Filters = args.until ? { until: [args.until] } : {};
    const result: SystemPruneResult = { containers: [], networks: [], volumes: [], images: [], build_cache: [], space_reclaimed: 0 };
    // The order of `docker system prune`: containers free networks, volumes and images for the
    // steps after them.
    const steps: Array<[string, () => Promise<void>]> = [
      [
        "containers",
        async () => {
          const r = (await docker.transport.json(api.containerPrune, { filters: { ...until, ...label } }, signal)) as Prune;
          result.containers = r.ContainersDeleted ?? [];
          result.space_reclaimed += r.SpaceReclaimed ?? 0;
        },
      ],
      [
        "networks",
        async () => {
          const r = (await docker.transport.json(api.networkPrune, { filters: { ...until, ...label } }, signal)) as Prune;
          result.networks = r.NetworksDeleted ?? [];
        },
      ],
    ];
    if (args.volumes)
      steps.push([
        "volumes",
        async () => {
          // Volumes have no creation filter: `until` does not apply to them (as in the CLI).
          const r = (await docker.transport.json(api.volumePrune, { filters: label }, signal)) as Prune;
          result.volumes = r.VolumesDeleted ?? [];
          result.space_reclaimed += r.SpaceReclaimed ?? 0;
        },
      ]);
    steps.push(
      [
        "images",
        async () => {
          const filters = { dangling: [args.all ? "false" : "true"], ...until, ...label };
          const r = (await docker.transport.json(api.imagePrune, { filters }, signal)) as Prune;
          result.images = (r.ImagesDeleted ?? []).map((d) => ({
            ...(d.Untagged ? { untagged: d.Untagged } : {}),
            ...(d.Deleted ? { deleted: d.Deleted } : {}),
          }));
          result.space_reclaimed += r.SpaceReclaimed ?? 0;
        },
      ],
      [
        "build cache",
        async () => {
          const r = (await docker.transport.json(api.buildPrune, { all: args.all, filters: { ...until, ...label } }, signal)) as Prune;
          result.build_cache = r.CachesDeleted ?? [];
          result.space_reclaimed += r.SpaceReclaimed ?? 0;
        },
      ],
    );
    const say = (p: PullProgress) => output.write(`${JSON.stringify(p)}\n`);
    for (const [index, [what, run]] of steps.entries()) {
      await say({ progress: Math.floor((index / steps.length) * 100), status: `Pruning ${what}` });
      await run();
    }
    await say({ progress: 100, status: `Reclaimed ${result.space_reclaimed} bytes` });
    return result;
  },
};

interface Prune {
  ContainersDeleted?: string[] | null;
  NetworksDeleted?: string[] | null;
  VolumesDeleted?: string[] | null;
  ImagesDeleted?: Array<{ Untagged?: string; Deleted?: string }> | null;
  CachesDeleted?: string[] | null;
  SpaceReclaimed?: number;
}
