// Preloaded into the agent by `AGENT_BREAKDOWN=1 npm run bench:agent` (node --import): on SIGUSR2
// it writes where its memory is, as the process itself sees it, to $PIER_BENCH_MEMORY_REPORT:
// process.memoryUsage() (rss, V8 heap total/used, external and ArrayBuffers), the V8 heap's spaces
// and code, and the handles keeping it alive. Plain JavaScript, so node loads it without tsx. It
// costs the agent ~1 MiB (node:v8), so figures measured with it are not the footprint's.
import { writeFileSync } from "node:fs";
import v8 from "node:v8";

const mib = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
const inMib = (record) => Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === "number" && v >= 65536 ? mib(v) : v]));

process.on("SIGUSR2", () => {
  const report = {
    memory_usage_mib: inMib(process.memoryUsage()),
    heap_mib: inMib(v8.getHeapStatistics()),
    code_mib: inMib(v8.getHeapCodeStatistics()),
    // [space, size, used, physical]
    spaces_mib: v8
      .getHeapSpaceStatistics()
      .map((s) => [s.space_name, mib(s.space_size), mib(s.space_used_size), mib(s.physical_space_size)]),
    resources: Object.fromEntries(
      Object.entries(Object.groupBy(process.getActiveResourcesInfo(), (r) => r)).map(([r, all]) => [r, all.length]),
    ),
  };
  const file = process.env.PIER_BENCH_MEMORY_REPORT;
  if (file) writeFileSync(file, `${JSON.stringify(report)}\n`, { flag: "a" });
});
