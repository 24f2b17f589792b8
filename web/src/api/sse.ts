// Server-sent events from the API. EventSource sends the session cookie itself (same origin);
// it reconnects on its own and replays from Last-Event-ID where the stream has ids.
import { useEffect, useRef } from "react";

export type SseHandlers = Record<string, (data: string, id: string) => void>;

export function useEventSource(url: string | null, handlers: SseHandlers, onOpen?: () => void): void {
  // The latest handlers without reopening the stream on every render.
  const ref = useRef({ handlers, onOpen });
  ref.current = { handlers, onOpen };
  const names = Object.keys(handlers).sort().join(",");
  useEffect(() => {
    if (!url) return;
    const source = new EventSource(url, { withCredentials: true });
    const listeners = names
      .split(",")
      .filter(Boolean)
      .map((name) => {
        const listener = (e: MessageEvent<string>) => ref.current.handlers[name]?.(e.data, e.lastEventId);
        source.addEventListener(name, listener);
        return [name, listener] as const;
      });
    source.onopen = () => ref.current.onOpen?.();
    return () => {
      for (const [name, listener] of listeners) source.removeEventListener(name, listener);
      source.close();
    };
  }, [url, names]);
}
