// A uPlot line chart (canvas: thousands of points stay cheap), sized to its container.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  color: string;
  values: (number | null)[];
}

export function LineChart({ title, times, series, unit }: { title: string; times: number[]; series: Series[]; unit: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join("|");

  // Rebuilt only when the set of series changes; new data goes through setData below.
  // biome-ignore lint/correctness/useExhaustiveDependencies: data updates are applied without a rebuild
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const dark = document.documentElement.classList.contains("dark");
    const axis = { stroke: dark ? "#a1a1aa" : "#52525b", grid: { stroke: dark ? "#27272a" : "#e4e4e7" } };
    const u = new uPlot(
      {
        width: el.clientWidth,
        height: 180,
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 1.5,
            value: (_: uPlot, v: number | null) => (v == null ? "—" : `${v.toFixed(1)} ${unit}`),
          })),
        ],
        axes: [axis, { ...axis, values: (_: uPlot, ticks: number[]) => ticks.map((t) => `${t}${unit === "%" ? "%" : ""}`) }],
        scales: { y: unit === "%" ? { range: [0, 100] } : {} },
        legend: { show: true },
      },
      [times, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, unit]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series]);

  return (
    <figure className="min-w-0">
      <figcaption className="mb-1 text-xs font-medium text-zinc-500">{title}</figcaption>
      <div ref={box} className="w-full" />
    </figure>
  );
}
