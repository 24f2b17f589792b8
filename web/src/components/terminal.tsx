// A shell in a container: xterm.js over the API's terminal WebSocket. Browsers cannot put a header
// on a WebSocket, so the page first asks for a single-use ticket (POST …/terminal/ticket, with the
// session cookie and CSRF token) and opens the socket with it. Binary frames carry the TTY's bytes
// both ways; text frames are JSON control (resize out; ready/error in).
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { useEffect, useRef, useState } from "react";
import { api, errorText, ok } from "../api/client.ts";
import { Button } from "./ui/button.tsx";

type Phase = { state: "connecting" } | { state: "open" } | { state: "closed"; text: string };

export default function ContainerTerminal({ hostId, containerId }: { hostId: string; containerId: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [phase, setPhase] = useState<Phase>({ state: "connecting" });
  const [session, setSession] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new session number opens a new shell
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const dark = document.documentElement.classList.contains("dark");
    const term = new Terminal({
      cursorBlink: true,
      fontSize: 13,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
      theme: dark ? { background: "#09090b" } : { background: "#18181b" },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    fit.fit();
    let socket: WebSocket | null = null;
    let disposed = false;
    const encoder = new TextEncoder();

    (async () => {
      const path = { hostId, id: containerId };
      const { ticket } = await ok(api.POST("/api/v1/hosts/{hostId}/containers/{id}/terminal/ticket", { params: { path } }));
      if (disposed) return;
      const url = new URL(
        `/api/v1/hosts/${encodeURIComponent(hostId)}/containers/${encodeURIComponent(containerId)}/terminal`,
        window.location.href,
      );
      url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
      url.searchParams.set("ticket", ticket);
      url.searchParams.set("cols", String(term.cols));
      url.searchParams.set("rows", String(term.rows));
      socket = new WebSocket(url);
      socket.binaryType = "arraybuffer";
      socket.onopen = () => {
        setPhase({ state: "open" });
        term.focus();
      };
      socket.onmessage = (e) => {
        if (typeof e.data === "string") {
          const control = JSON.parse(e.data) as { type: string; message?: string };
          if (control.type === "error") term.writeln(`\r\n[pier] ${control.message ?? "error"}`);
        } else term.write(new Uint8Array(e.data as ArrayBuffer));
      };
      socket.onclose = (e) => {
        let text = `closed (${e.code})`;
        try {
          const reason = e.reason ? (JSON.parse(e.reason) as { exit_code?: number }) : {};
          if (reason.exit_code !== undefined) text = `exited with code ${reason.exit_code}`;
        } catch {
          if (e.reason) text = `closed: ${e.reason}`;
        }
        if (e.code === 4000) text = "closed after being idle";
        if (e.code === 1011) text = "the host's agent went away";
        if (!disposed) setPhase({ state: "closed", text });
      };
    })().catch((err) => !disposed && setPhase({ state: "closed", text: errorText(err) }));

    const input = term.onData((data) => socket?.readyState === WebSocket.OPEN && socket.send(encoder.encode(data)));
    const resized = term.onResize(
      ({ cols, rows }) => socket?.readyState === WebSocket.OPEN && socket.send(JSON.stringify({ type: "resize", cols, rows })),
    );
    const observer = new ResizeObserver(() => fit.fit());
    observer.observe(el);
    return () => {
      disposed = true;
      observer.disconnect();
      input.dispose();
      resized.dispose();
      socket?.close();
      term.dispose();
    };
  }, [hostId, containerId, session]);

  return (
    <div className="grid gap-2">
      <div className="flex items-center gap-3 text-sm">
        <span data-testid="terminal-state">{phase.state === "closed" ? phase.text : phase.state}</span>
        {phase.state === "closed" ? (
          <Button
            size="sm"
            variant="secondary"
            onClick={() => {
              setPhase({ state: "connecting" });
              setSession((s) => s + 1);
            }}
          >
            Open a new shell
          </Button>
        ) : null}
      </div>
      <div ref={box} data-testid="terminal" className="h-[60vh] min-h-64 overflow-hidden rounded-md bg-zinc-900 p-2" />
    </div>
  );
}
