// A log view for container and build logs: the stream appends to a LogBuffer (no React state per
// line), the screen repaints at most once a frame, and only the rows in view are in the DOM
// (@tanstack/react-virtual), so a hundred thousand lines scroll like ten.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useMemo, useRef, useState } from "react";
import { parseAnsi } from "../lib/ansi.ts";
import type { LogBuffer, LogLine, LogStream } from "../lib/log-buffer.ts";
import { Button } from "./ui/button.tsx";
import { Input } from "./ui/input.tsx";

/** Re-renders its caller at most once per animation frame while `buffer` changes. */
export function useBufferVersion(buffer: LogBuffer): number {
  const [version, setVersion] = useState(buffer.version);
  useEffect(() => {
    let frame = 0;
    const tick = () => {
      setVersion((v) => (v === buffer.version ? v : buffer.version));
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [buffer]);
  return version;
}

const ROW = 18;

export function LogViewer({
  buffer,
  streams: available = ["stdout", "stderr"],
  status,
  filename,
}: {
  buffer: LogBuffer;
  streams?: LogStream[];
  status?: React.ReactNode;
  filename: string;
}) {
  const version = useBufferVersion(buffer);
  const [query, setQuery] = useState("");
  const [shown, setShown] = useState<Set<LogStream>>(new Set(available));
  const [timestamps, setTimestamps] = useState(false);
  const [follow, setFollow] = useState(true);
  const scroller = useRef<HTMLDivElement>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: version is the buffer's change signal
  const indexes = useMemo(() => buffer.filter(query, shown), [buffer, version, query, shown]);
  const virtual = useVirtualizer({
    count: indexes.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW,
    overscan: 20,
  });

  useEffect(() => {
    if (follow && indexes.length > 0) virtual.scrollToIndex(indexes.length - 1, { align: "end" });
  }, [follow, indexes.length, virtual]);

  const download = () => {
    const url = URL.createObjectURL(new Blob([buffer.toText(true)], { type: "text/plain" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    a.click();
    URL.revokeObjectURL(url);
  };

  return (
    <div className="grid gap-2">
      <div className="flex flex-wrap items-center gap-2">
        <Input
          aria-label="Search the log"
          placeholder="Search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          className="max-w-xs"
        />
        {available.map((s) => (
          <label key={s} className="flex items-center gap-1 text-sm">
            <input
              type="checkbox"
              checked={shown.has(s)}
              onChange={(e) =>
                setShown((cur) => {
                  const next = new Set(cur);
                  if (e.target.checked) next.add(s);
                  else next.delete(s);
                  return next;
                })
              }
            />
            {s}
          </label>
        ))}
        <label className="flex items-center gap-1 text-sm">
          <input type="checkbox" checked={timestamps} onChange={(e) => setTimestamps(e.target.checked)} />
          timestamps
        </label>
        <label className="flex items-center gap-1 text-sm">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} />
          follow
        </label>
        <Button size="sm" variant="secondary" onClick={download}>
          Download
        </Button>
        <span className="ml-auto text-xs text-zinc-500" data-testid="log-count">
          {indexes.length} of {buffer.size} lines{buffer.dropped > 0 ? ` (${buffer.dropped} older dropped)` : ""}
          {status ? <> · {status}</> : null}
        </span>
      </div>
      <div
        ref={scroller}
        role="log"
        aria-live="off"
        data-testid="log-view"
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must take focus to scroll by keyboard
        tabIndex={0}
        onWheel={(e) => e.deltaY < 0 && setFollow(false)}
        className="h-[60vh] min-h-64 overflow-auto rounded-md bg-zinc-950 font-mono text-xs leading-[18px] text-zinc-200"
      >
        <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
          {virtual.getVirtualItems().map((row) => {
            const line = buffer.at(indexes[row.index]!);
            return line ? <Row key={line.seq} line={line} top={row.start} timestamps={timestamps} /> : null;
          })}
        </div>
      </div>
    </div>
  );
}

function Row({ line, top, timestamps }: { line: LogLine; top: number; timestamps: boolean }) {
  return (
    <div
      data-stream={line.stream}
      className={`absolute left-0 w-full px-3 whitespace-pre ${line.stream === "stderr" ? "bg-red-950/40" : line.stream === "system" ? "text-sky-300" : ""}`}
      style={{ top, height: ROW }}
    >
      {timestamps && line.time ? <span className="mr-2 text-zinc-500">{line.time.replace("T", " ").slice(0, 23)}</span> : null}
      {parseAnsi(line.text).map((s, i) => (
        <span
          // biome-ignore lint/suspicious/noArrayIndexKey: segments of one immutable line
          key={i}
          style={{
            color: s.fg ?? undefined,
            backgroundColor: s.bg ?? undefined,
            fontWeight: s.bold ? 600 : undefined,
            fontStyle: s.italic ? "italic" : undefined,
            textDecoration: s.underline ? "underline" : undefined,
          }}
        >
          {s.text}
        </span>
      ))}
    </div>
  );
}
