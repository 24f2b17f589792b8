import { describe, expect, it } from "vitest";
import { diskUsageRows } from "./housekeeping.ts";

describe("diskUsageRows", () => {
  it("computes `docker system df` the way the Docker CLI does", () => {
    const rows = diskUsageRows({
      LayersSize: 1000,
      Images: [
        { Containers: 1, Size: 600, SharedSize: 100 },
        { Containers: 0, Size: 400, SharedSize: 100 },
        { Containers: 2, Size: 300, SharedSize: -1 },
      ],
      Containers: [{ State: "running", SizeRw: 10 }, { State: "paused", SizeRw: 5 }, { State: "exited", SizeRw: 7 }, { State: "created" }],
      Volumes: [
        { UsageData: { Size: 50, RefCount: 1 } },
        { UsageData: { Size: 20, RefCount: 0 } },
        { UsageData: { Size: -1, RefCount: 0 } },
      ],
      BuildCache: [
        { Size: 30, InUse: true, Shared: false },
        { Size: 40, InUse: false, Shared: false },
        { Size: 99, InUse: false, Shared: true },
      ],
    });
    expect(rows).toEqual([
      // Shared layers are counted once (LayersSize); an image whose shared size is unknown is skipped.
      { type: "Images", total: 3, active: 2, size: 1000, reclaimable: 500 },
      { type: "Containers", total: 4, active: 2, size: 22, reclaimable: 7 },
      { type: "Local Volumes", total: 3, active: 1, size: 70, reclaimable: 20 },
      { type: "Build Cache", total: 3, active: 1, size: 70, reclaimable: 40 },
    ]);
  });

  it("answers zeros for an empty engine (null lists included)", () => {
    expect(diskUsageRows({ LayersSize: 0, Images: null, Containers: null, Volumes: null, BuildCache: null }).map((r) => r.total)).toEqual([
      0, 0, 0, 0,
    ]);
  });
});
