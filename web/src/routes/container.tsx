// A container: state and actions, logs that follow, live stats, processes, and its inspect document.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { lazy, Suspense, useMemo, useRef, useState } from "react";
import { api, ok } from "../api/client.ts";
import { useHostName } from "../api/hosts.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { useEventSource } from "../api/sse.ts";
import { PageTitle } from "../components/layout.tsx";
import { LogViewer } from "../components/log-viewer.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { bytes, percent } from "../lib/format.ts";
import { LogBuffer } from "../lib/log-buffer.ts";

// xterm.js is loaded only when the terminal tab opens; the files tab when it opens.
const ContainerTerminal = lazy(() => import("../components/terminal.tsx"));
const ContainerFiles = lazy(() => import("../components/container-files.tsx"));

const TABS = [
  { id: "logs", label: "Logs" },
  { id: "terminal", label: "Terminal" },
  { id: "stats", label: "Stats" },
  { id: "processes", label: "Processes" },
  { id: "files", label: "Files" },
  { id: "inspect", label: "Inspect" },
] as const;
type Tab = (typeof TABS)[number]["id"];

interface Inspect {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; ExitCode: number; StartedAt: string; FinishedAt: string; Error?: string };
  Config: { Image: string; Env?: string[] | null; Cmd?: string[] | null; Labels?: Record<string, string> | null };
  [key: string]: unknown;
}

export function ContainerPage() {
  const { hostId, containerId } = useParams({ from: "/app/docker-hosts/$hostId/containers/$containerId" });
  const hostName = useHostName();
  const { tab = "logs" } = useSearch({ from: "/app/docker-hosts/$hostId/containers/$containerId" });
  const navigate = useNavigate();
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const inspect = useQuery({
    queryKey: keys.hosts.container(hostId, containerId),
    queryFn: async () =>
      (await ok(
        api.GET("/api/v1/hosts/{hostId}/containers/{id}", { params: { path: { hostId, id: containerId } } }),
      )) as unknown as Inspect,
  });
  const action = useMutation({
    mutationFn: async (a: "start" | "stop" | "restart" | "remove") => {
      const path = { hostId, id: containerId };
      if (a === "remove") return ok(api.DELETE("/api/v1/hosts/{hostId}/containers/{id}", { params: { path, query: { force: "true" } } }));
      if (a === "start") return ok(api.POST("/api/v1/hosts/{hostId}/containers/{id}/start", { params: { path } }));
      if (a === "stop") return ok(api.POST("/api/v1/hosts/{hostId}/containers/{id}/stop", { params: { path, query: {} } }));
      return ok(api.POST("/api/v1/hosts/{hostId}/containers/{id}/restart", { params: { path, query: {} } }));
    },
    onSuccess: async (_, a) => {
      toast.ok(a === "remove" ? "Container removed" : `${a} done`);
      if (a === "remove") return navigate({ to: "/docker-hosts/$hostId", params: { hostId }, search: {} });
      await qc.invalidateQueries({ queryKey: keys.hosts.container(hostId, containerId) });
    },
    onError: (err) => toast.error(err),
  });
  const state = inspect.data?.State.Status;
  const running = state === "running" || state === "paused" || state === "restarting";
  const current = (TABS.some((t) => t.id === tab) ? tab : "logs") as Tab;
  const name = inspect.data?.Name.replace(/^\//, "") ?? containerId.slice(0, 12);

  return (
    <>
      <PageTitle
        actions={
          can.operate && inspect.data ? (
            <>
              {running ? (
                <Button variant="secondary" busy={action.isPending && action.variables === "stop"} onClick={() => action.mutate("stop")}>
                  Stop
                </Button>
              ) : (
                <Button variant="secondary" busy={action.isPending && action.variables === "start"} onClick={() => action.mutate("start")}>
                  Start
                </Button>
              )}
              <Button
                variant="secondary"
                busy={action.isPending && action.variables === "restart"}
                onClick={() => action.mutate("restart")}
              >
                Restart
              </Button>
              <Button
                variant="danger"
                disabled={action.isPending}
                onClick={() => window.confirm(`Remove ${name}?`) && action.mutate("remove")}
              >
                Remove
              </Button>
            </>
          ) : null
        }
      >
        <Link to="/docker-hosts/$hostId" params={{ hostId }} search={{}} className="text-zinc-500 hover:underline">
          {hostName(hostId)}
        </Link>{" "}
        / {name} {state ? <StateBadge state={state} data-testid="container-state" /> : null}
      </PageTitle>
      <ErrorNote error={inspect.error} />
      {inspect.data ? (
        <p className="mb-4 text-sm text-zinc-500">
          {inspect.data.Config.Image} · {inspect.data.Id.slice(0, 12)}
          {state === "exited" ? ` · exit code ${inspect.data.State.ExitCode}` : ""}
        </p>
      ) : null}
      <Tabs tabs={TABS} value={current} onChange={(id) => navigate({ to: ".", search: { tab: id }, replace: true })} />
      {current === "logs" ? <Logs hostId={hostId} containerId={containerId} name={name} /> : null}
      {current === "terminal" ? (
        can.operate ? (
          running ? (
            <Card>
              <Suspense fallback="Loading the terminal…">
                <ContainerTerminal hostId={hostId} containerId={containerId} />
              </Suspense>
            </Card>
          ) : (
            <Card>The container is not running: start it to open a shell.</Card>
          )
        ) : (
          <Card>Terminals are for members and up.</Card>
        )
      ) : null}
      {current === "stats" ? <Stats hostId={hostId} containerId={containerId} running={running} /> : null}
      {current === "processes" ? <Processes hostId={hostId} containerId={containerId} running={running} /> : null}
      {current === "files" ? (
        <Suspense fallback="Loading…">
          <ContainerFiles hostId={hostId} containerId={containerId} />
        </Suspense>
      ) : null}
      {current === "inspect" && inspect.data ? <InspectView doc={inspect.data} /> : null}
    </>
  );
}

function Logs({ hostId, containerId, name }: { hostId: string; containerId: string; name: string }) {
  const buffer = useRef(new LogBuffer()).current;
  const [status, setStatus] = useState("connecting");
  const url = `/api/v1/hosts/${encodeURIComponent(hostId)}/containers/${encodeURIComponent(containerId)}/logs?follow=1&tail=2000&timestamps=1`;
  useEventSource(
    url,
    {
      log: (data) => {
        const { stream, text } = JSON.parse(data) as { stream: "stdout" | "stderr"; text: string };
        buffer.append(stream, text, true);
      },
      end: (data) => {
        const { error } = JSON.parse(data) as { error?: string };
        setStatus(error ? `ended: ${error}` : "ended");
      },
    },
    // A reconnect asks for the tail again: start from an empty view rather than repeat lines.
    () => {
      buffer.clear();
      setStatus("following");
    },
  );
  return (
    <Card>
      <LogViewer buffer={buffer} filename={`${name}.log`} status={<span data-testid="log-status">{status}</span>} />
    </Card>
  );
}

function Stats({ hostId, containerId, running }: { hostId: string; containerId: string; running: boolean }) {
  const stats = useQuery({
    queryKey: ["hosts", hostId, "container", containerId, "stats"],
    queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/containers/{id}/stats", { params: { path: { hostId, id: containerId } } })),
    enabled: running,
    refetchInterval: 2000,
  });
  if (!running) return <Card>The container is not running.</Card>;
  const s = stats.data;
  return (
    <Card>
      <ErrorNote error={stats.error} />
      {s ? (
        <dl className="grid grid-cols-2 gap-4 text-sm sm:grid-cols-4" data-testid="stats">
          <Stat label="CPU" value={percent(s.cpu_percent)} />
          <Stat label="Memory" value={`${bytes(s.memory_usage)} / ${bytes(s.memory_limit)} (${percent(s.memory_percent)})`} />
          <Stat label="Network" value={`↓ ${bytes(s.net_rx)} ↑ ${bytes(s.net_tx)}`} />
          <Stat label="Block I/O" value={`${bytes(s.block_read)} / ${bytes(s.block_write)}`} />
          <Stat label="Processes" value={String(s.pids)} />
        </dl>
      ) : (
        "Reading…"
      )}
    </Card>
  );
}

const Stat = ({ label, value }: { label: string; value: string }) => (
  <div>
    <dt className="text-xs text-zinc-500">{label}</dt>
    <dd className="font-medium">{value}</dd>
  </div>
);

function Processes({ hostId, containerId, running }: { hostId: string; containerId: string; running: boolean }) {
  const top = useQuery({
    queryKey: ["hosts", hostId, "container", containerId, "top"],
    queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/containers/{id}/top", { params: { path: { hostId, id: containerId } } })),
    enabled: running,
    refetchInterval: 5000,
  });
  if (!running) return <Card>The container is not running.</Card>;
  return (
    <Card>
      <ErrorNote error={top.error} />
      <div className="overflow-x-auto">
        <table className="w-full text-left font-mono text-xs">
          <thead className="text-zinc-500">
            <tr>
              {top.data?.titles.map((t) => (
                <th key={t} className="py-1 pr-3">
                  {t}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {top.data?.processes.map((p) => (
              <tr key={p.join("\u0000")}>
                {p.map((cell, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: columns of one row
                  <td key={i} className="py-1 pr-3 whitespace-pre">
                    {cell}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

/** Environment values are shown masked below admin; an admin may reveal them. */
function InspectView({ doc }: { doc: Inspect }) {
  const can = useCan();
  const [reveal, setReveal] = useState(false);
  const shown = useMemo(() => {
    if (reveal && can.admin) return doc;
    const env = doc.Config.Env?.map((e) => {
      const eq = e.indexOf("=");
      return eq < 0 ? e : `${e.slice(0, eq)}=••••••`;
    });
    return { ...doc, Config: { ...doc.Config, Env: env } };
  }, [doc, reveal, can.admin]);
  return (
    <Card
      title="Inspect"
      actions={
        can.admin ? (
          <Button size="sm" variant="secondary" onClick={() => setReveal((r) => !r)}>
            {reveal ? "Mask environment" : "Reveal environment"}
          </Button>
        ) : null
      }
    >
      <pre className="max-h-[70vh] overflow-auto rounded-md bg-zinc-100 p-3 font-mono text-xs dark:bg-zinc-950" data-testid="inspect">
        {JSON.stringify(shown, null, 2)}
      </pre>
    </Card>
  );
}
