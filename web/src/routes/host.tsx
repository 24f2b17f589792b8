// A host: its containers (live from the event stream), images, volumes, networks and metrics.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { api, ok } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { LineChart } from "../components/chart.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Badge, Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { Input, Select } from "../components/ui/input.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { useToast } from "../components/ui/toast.tsx";
import type { Container } from "../lib/container-events.ts";
import { ago, bytes } from "../lib/format.ts";
import { useTask } from "../lib/use-task.ts";

const TABS = [
  { id: "containers", label: "Containers" },
  { id: "images", label: "Images" },
  { id: "volumes", label: "Volumes" },
  { id: "networks", label: "Networks" },
  { id: "metrics", label: "Metrics" },
] as const;
type Tab = (typeof TABS)[number]["id"];

export function HostPage() {
  const { hostId } = useParams({ from: "/app/docker-hosts/$hostId" });
  const { tab = "containers" } = useSearch({ from: "/app/docker-hosts/$hostId" });
  const navigate = useNavigate();
  const host = useQuery({
    queryKey: keys.hosts.detail(hostId),
    queryFn: () => ok(api.GET("/api/v1/hosts/{id}", { params: { path: { id: hostId } } })),
  });
  const current = (TABS.some((t) => t.id === tab) ? tab : "containers") as Tab;
  return (
    <>
      <PageTitle>
        <Link to="/docker-hosts" className="text-zinc-500 hover:underline">
          Hosts
        </Link>{" "}
        / {host.data?.name ?? "…"} {host.data ? <StateBadge state={host.data.status} data-testid="host-status" /> : null}
      </PageTitle>
      <ErrorNote error={host.error} />
      {host.data ? (
        <p className="mb-4 text-sm text-zinc-500">
          {[
            host.data.hostname,
            host.data.os,
            host.data.arch,
            host.data.engine_version && `Docker ${host.data.engine_version}`,
            host.data.agent_version && `agent ${host.data.agent_version}`,
          ]
            .filter(Boolean)
            .join(" · ")}
          {host.data.status !== "online" ? ` · last seen ${ago(host.data.last_seen_at)}` : null}
        </p>
      ) : null}
      <Tabs tabs={TABS} value={current} onChange={(id) => navigate({ to: ".", search: { tab: id }, replace: true })} />
      {current === "containers" ? <ContainersTab hostId={hostId} /> : null}
      {current === "images" ? <ImagesTab hostId={hostId} /> : null}
      {current === "volumes" ? <VolumesTab hostId={hostId} /> : null}
      {current === "networks" ? <NetworksTab hostId={hostId} /> : null}
      {current === "metrics" ? <MetricsTab hostId={hostId} /> : null}
    </>
  );
}

type SortKey = "name" | "state" | "image" | "created_at";
type Action = "start" | "stop" | "restart";

function useContainerAction(hostId: string) {
  const qc = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: async ({ id, action }: { id: string; name: string; action: Action | "remove" }) => {
      const path = { hostId, id };
      if (action === "remove")
        return ok(api.DELETE("/api/v1/hosts/{hostId}/containers/{id}", { params: { path, query: { force: "true" } } }));
      if (action === "start") return ok(api.POST("/api/v1/hosts/{hostId}/containers/{id}/start", { params: { path } }));
      if (action === "stop") return ok(api.POST("/api/v1/hosts/{hostId}/containers/{id}/stop", { params: { path, query: {} } }));
      return ok(api.POST("/api/v1/hosts/{hostId}/containers/{id}/restart", { params: { path, query: {} } }));
    },
    onSuccess: (_, v) => {
      toast.ok(`${v.name}: ${v.action === "remove" ? "removed" : `${v.action} done`}`);
      // The event stream moves the row too; this settles fields events do not carry (status text).
      void qc.invalidateQueries({ queryKey: keys.hosts.containers(hostId) });
    },
    onError: (err) => toast.error(err),
  });
}

export function ContainersTab({ hostId }: { hostId: string }) {
  const can = useCan();
  const containers = useQuery({
    queryKey: keys.hosts.containers(hostId),
    queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/containers", { params: { path: { hostId }, query: { all: "true" } } })),
  });
  const [filter, setFilter] = useState("");
  const [state, setState] = useState("all");
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "name", desc: false });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const action = useContainerAction(hostId);
  const qc = useQueryClient();
  const toast = useToast();
  const bulk = useMutation({
    mutationFn: (a: Action) =>
      ok(api.POST("/api/v1/hosts/{hostId}/containers/bulk", { params: { path: { hostId } }, body: { action: a, ids: [...selected] } })),
    onSuccess: (_, a) => {
      toast.ok(`${a} of ${selected.size} container(s) started as a task`);
      setSelected(new Set());
      void qc.invalidateQueries({ queryKey: keys.hosts.containers(hostId) });
    },
    onError: (err) => toast.error(err),
  });

  const rows = useMemo(() => {
    const q = filter.toLowerCase();
    const list = (containers.data?.containers ?? []).filter(
      (c) =>
        (state === "all" || c.state === state) &&
        (!q || c.name.toLowerCase().includes(q) || c.image.toLowerCase().includes(q) || c.id.startsWith(q)),
    );
    const dir = sort.desc ? -1 : 1;
    return list.sort((a, b) => dir * String(a[sort.key]).localeCompare(String(b[sort.key])));
  }, [containers.data, filter, state, sort]);

  const header = (key: SortKey, label: string, className = "") => (
    <th className={`py-2 pr-3 ${className}`} aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}>
      <button
        type="button"
        className="uppercase hover:text-zinc-900 dark:hover:text-zinc-100"
        onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : false }))}
      >
        {label}
        {sort.key === key ? (sort.desc ? " ↓" : " ↑") : ""}
      </button>
    </th>
  );

  return (
    <Card>
      <div className="mb-3 flex flex-wrap items-center gap-2">
        <Input
          aria-label="Filter containers"
          placeholder="Filter by name, image or id"
          value={filter}
          onChange={(e) => setFilter(e.target.value)}
          className="max-w-xs"
        />
        <Select aria-label="State" value={state} onChange={(e) => setState(e.target.value)} className="w-36">
          {["all", "running", "exited", "paused", "created", "restarting", "dead"].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </Select>
        {can.operate && selected.size > 0 ? (
          <div className="flex gap-1">
            {(["start", "stop", "restart"] as const).map((a) => (
              <Button key={a} size="sm" variant="secondary" busy={bulk.isPending && bulk.variables === a} onClick={() => bulk.mutate(a)}>
                {a} {selected.size}
              </Button>
            ))}
          </div>
        ) : null}
      </div>
      <ErrorNote error={containers.error} />
      {containers.data && rows.length === 0 ? <Empty>No container matches.</Empty> : null}
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <thead className="text-xs text-zinc-500">
            <tr>
              {can.operate ? (
                <th className="w-8 py-2">
                  <input
                    type="checkbox"
                    aria-label="Select all"
                    checked={rows.length > 0 && rows.every((r) => selected.has(r.id))}
                    onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())}
                  />
                </th>
              ) : null}
              {header("name", "Name")}
              {header("state", "State")}
              {header("image", "Image", "hidden sm:table-cell")}
              {header("created_at", "Created", "hidden md:table-cell")}
              {can.operate ? <th className="py-2 text-right uppercase">Actions</th> : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {rows.map((c) => (
              <ContainerRow
                key={c.id}
                hostId={hostId}
                c={c}
                canOperate={can.operate}
                selected={selected.has(c.id)}
                onSelect={(on) =>
                  setSelected((s) => {
                    const next = new Set(s);
                    if (on) next.add(c.id);
                    else next.delete(c.id);
                    return next;
                  })
                }
                onAction={(a) => action.mutate({ id: c.id, name: c.name, action: a })}
                busy={action.isPending && action.variables?.id === c.id}
              />
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function ContainerRow({
  hostId,
  c,
  canOperate,
  selected,
  onSelect,
  onAction,
  busy,
}: {
  hostId: string;
  c: Container;
  canOperate: boolean;
  selected: boolean;
  onSelect: (on: boolean) => void;
  onAction: (a: Action | "remove") => void;
  busy: boolean;
}) {
  const running = c.state === "running" || c.state === "restarting" || c.state === "paused";
  return (
    <tr data-testid="container-row" data-name={c.name} data-state={c.state}>
      {canOperate ? (
        <td className="py-2">
          <input type="checkbox" aria-label={`Select ${c.name}`} checked={selected} onChange={(e) => onSelect(e.target.checked)} />
        </td>
      ) : null}
      <td className="max-w-[14rem] truncate py-2 pr-3">
        <Link
          to="/docker-hosts/$hostId/containers/$containerId"
          params={{ hostId, containerId: c.id }}
          className="font-medium text-sky-700 hover:underline dark:text-sky-400"
        >
          {c.name}
        </Link>
        {c.managed ? (
          <Badge tone="blue" title="Created through Pier">
            pier
          </Badge>
        ) : null}
      </td>
      <td className="py-2 pr-3">
        <StateBadge state={c.state} data-testid="container-state" />{" "}
        <span className="hidden text-xs text-zinc-500 lg:inline">{c.status}</span>
      </td>
      <td className="hidden max-w-[16rem] truncate py-2 pr-3 sm:table-cell">{c.image}</td>
      <td className="hidden py-2 pr-3 md:table-cell">{ago(c.created_at)}</td>
      {canOperate ? (
        <td className="py-2 text-right whitespace-nowrap">
          {running ? (
            <Button size="sm" variant="secondary" busy={busy} onClick={() => onAction("stop")}>
              Stop
            </Button>
          ) : (
            <Button size="sm" variant="secondary" busy={busy} onClick={() => onAction("start")}>
              Start
            </Button>
          )}{" "}
          <Button size="sm" variant="secondary" disabled={busy} onClick={() => onAction("restart")}>
            Restart
          </Button>{" "}
          <Button
            size="sm"
            variant="danger"
            disabled={busy}
            onClick={() => {
              if (window.confirm(`Remove container ${c.name}? It is stopped first.`)) onAction("remove");
            }}
          >
            Remove
          </Button>
        </td>
      ) : null}
    </tr>
  );
}

function ImagesTab({ hostId }: { hostId: string }) {
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const images = useQuery({
    queryKey: keys.hosts.images(hostId),
    queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/images", { params: { path: { hostId } } })),
  });
  const [taskId, setTaskId] = useState<string | null>(null);
  const task = useTask(taskId);
  const pull = useMutation({
    mutationFn: (image: string) => ok(api.POST("/api/v1/hosts/{hostId}/images/pull", { params: { path: { hostId } }, body: { image } })),
    onSuccess: (started) => setTaskId(started.task_id),
    onError: (err) => toast.error(err),
  });
  const remove = useMutation({
    mutationFn: (image: string) => ok(api.DELETE("/api/v1/hosts/{hostId}/images/{image}", { params: { path: { hostId, image } } })),
    onSuccess: (_, image) => {
      toast.ok(`Removed ${image}`);
      void qc.invalidateQueries({ queryKey: keys.hosts.images(hostId) });
    },
    onError: (err) => toast.error(err),
  });
  const status = task.data?.status;
  useEffect(() => {
    if (status === "succeeded") {
      toast.ok("Pull finished");
      void qc.invalidateQueries({ queryKey: keys.hosts.images(hostId) });
    } else if (status === "failed") toast.error(task.data?.message ?? "The pull failed");
  }, [status, hostId, qc, toast, task.data?.message]);

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    pull.mutate(String(new FormData(e.currentTarget).get("image")));
  };
  return (
    <Card>
      {can.operate ? (
        <form onSubmit={submit} className="mb-3 flex flex-wrap items-center gap-2">
          <Input name="image" aria-label="Image to pull" placeholder="nginx:1.27" required className="max-w-xs" />
          <Button type="submit" busy={pull.isPending || status === "running" || status === "queued"}>
            Pull
          </Button>
          {task.data ? (
            <span className="flex items-center gap-2 text-sm" data-testid="pull-progress">
              <progress max={100} value={task.data.progress} className="h-2 w-32" />
              <StateBadge state={task.data.status} /> {task.data.message}
            </span>
          ) : null}
        </form>
      ) : null}
      <ErrorNote error={images.error} />
      {images.data?.images.length === 0 ? <Empty>No image.</Empty> : null}
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <thead className="text-xs text-zinc-500 uppercase">
            <tr>
              <th className="py-2 pr-3">Tags</th>
              <th className="py-2 pr-3">Size</th>
              <th className="hidden py-2 pr-3 sm:table-cell">Containers</th>
              <th className="hidden py-2 pr-3 md:table-cell">Created</th>
              {can.operate ? <th className="py-2 text-right">Actions</th> : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {images.data?.images.map((i) => (
              <tr key={i.id} data-testid="image-row">
                <td className="max-w-[20rem] truncate py-2 pr-3">
                  {i.repo_tags.join(", ") || <span className="text-zinc-500">{i.short_id}</span>}
                </td>
                <td className="py-2 pr-3">{bytes(i.size)}</td>
                <td className="hidden py-2 pr-3 sm:table-cell">{i.containers >= 0 ? i.containers : "—"}</td>
                <td className="hidden py-2 pr-3 md:table-cell">{ago(i.created_at)}</td>
                {can.operate ? (
                  <td className="py-2 text-right">
                    <Button
                      size="sm"
                      variant="danger"
                      busy={remove.isPending && remove.variables === (i.repo_tags[0] ?? i.id)}
                      onClick={() => remove.mutate(i.repo_tags[0] ?? i.id)}
                    >
                      Remove
                    </Button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function VolumesTab({ hostId }: { hostId: string }) {
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const volumes = useQuery({
    queryKey: keys.hosts.volumes(hostId),
    queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/volumes", { params: { path: { hostId } } })),
  });
  const remove = useMutation({
    mutationFn: (name: string) => ok(api.DELETE("/api/v1/hosts/{hostId}/volumes/{name}", { params: { path: { hostId, name } } })),
    onSuccess: (_, name) => {
      toast.ok(`Removed volume ${name}`);
      void qc.invalidateQueries({ queryKey: keys.hosts.volumes(hostId) });
    },
    onError: (err) => toast.error(err),
  });
  return (
    <Card>
      <ErrorNote error={volumes.error} />
      {volumes.data?.volumes.length === 0 ? <Empty>No volume.</Empty> : null}
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <thead className="text-xs text-zinc-500 uppercase">
            <tr>
              <th className="py-2 pr-3">Name</th>
              <th className="py-2 pr-3">Driver</th>
              <th className="hidden py-2 pr-3 sm:table-cell">Size</th>
              {can.operate ? <th className="py-2 text-right">Actions</th> : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {volumes.data?.volumes.map((v) => (
              <tr key={v.name}>
                <td className="max-w-[20rem] truncate py-2 pr-3">{v.name}</td>
                <td className="py-2 pr-3">{v.driver}</td>
                <td className="hidden py-2 pr-3 sm:table-cell">{bytes(v.size)}</td>
                {can.operate ? (
                  <td className="py-2 text-right">
                    <Button
                      size="sm"
                      variant="danger"
                      busy={remove.isPending && remove.variables === v.name}
                      onClick={() => remove.mutate(v.name)}
                    >
                      Remove
                    </Button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function NetworksTab({ hostId }: { hostId: string }) {
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const networks = useQuery({
    queryKey: keys.hosts.networks(hostId),
    queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/networks", { params: { path: { hostId } } })),
  });
  const remove = useMutation({
    mutationFn: (network: string) => ok(api.DELETE("/api/v1/hosts/{hostId}/networks/{network}", { params: { path: { hostId, network } } })),
    onSuccess: () => {
      toast.ok("Network removed");
      void qc.invalidateQueries({ queryKey: keys.hosts.networks(hostId) });
    },
    onError: (err) => toast.error(err),
  });
  return (
    <Card>
      <ErrorNote error={networks.error} />
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <thead className="text-xs text-zinc-500 uppercase">
            <tr>
              <th className="py-2 pr-3">Name</th>
              <th className="py-2 pr-3">Driver</th>
              <th className="hidden py-2 pr-3 sm:table-cell">Containers</th>
              {can.operate ? <th className="py-2 text-right">Actions</th> : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {networks.data?.networks.map((n) => (
              <tr key={n.id}>
                <td className="py-2 pr-3">{n.name}</td>
                <td className="py-2 pr-3">{n.driver}</td>
                <td className="hidden py-2 pr-3 sm:table-cell">{n.containers.length}</td>
                {can.operate ? (
                  <td className="py-2 text-right">
                    {n.predefined ? null : (
                      <Button
                        size="sm"
                        variant="danger"
                        busy={remove.isPending && remove.variables === n.id}
                        onClick={() => remove.mutate(n.id)}
                      >
                        Remove
                      </Button>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

const RANGES = { "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400 } as const;

function MetricsTab({ hostId }: { hostId: string }) {
  const [range, setRange] = useState<keyof typeof RANGES>("1h");
  const metrics = useQuery({
    queryKey: keys.hosts.metrics(hostId, range),
    queryFn: () =>
      ok(
        api.GET("/api/v1/hosts/{id}/metrics", {
          params: { path: { id: hostId }, query: { from: new Date(Date.now() - RANGES[range] * 1000).toISOString() } },
        }),
      ),
    // The agent reports about every 15 s: the chart's tail follows it.
    refetchInterval: 15_000,
  });
  const points = metrics.data?.points ?? [];
  const times = useMemo(() => points.map((p) => new Date(p.at).getTime() / 1000), [points]);
  const cpu = useMemo(() => [{ label: "CPU", color: "#0284c7", values: points.map((p) => p.cpu_percent) }], [points]);
  const memory = useMemo(() => [{ label: "Memory", color: "#9333ea", values: points.map((p) => p.memory_percent) }], [points]);
  const disk = useMemo(() => [{ label: "Disk", color: "#ea580c", values: points.map((p) => p.disk_percent) }], [points]);
  const net = useMemo(
    () => [
      { label: "In", color: "#16a34a", values: points.map((p) => (p.network_in == null ? null : p.network_in / 1024)) },
      { label: "Out", color: "#dc2626", values: points.map((p) => (p.network_out == null ? null : p.network_out / 1024)) },
    ],
    [points],
  );
  return (
    <Card
      title="Host metrics"
      actions={
        <Select aria-label="Range" value={range} onChange={(e) => setRange(e.target.value as keyof typeof RANGES)} className="w-24">
          {Object.keys(RANGES).map((r) => (
            <option key={r}>{r}</option>
          ))}
        </Select>
      }
    >
      <ErrorNote error={metrics.error} />
      {metrics.data && points.length === 0 ? (
        <Empty>No sample in this range yet: the agent reports every few seconds once connected.</Empty>
      ) : null}
      {points.length > 0 ? (
        <div className="grid gap-4 lg:grid-cols-2">
          <LineChart title="CPU" unit="%" times={times} series={cpu} />
          <LineChart title="Memory" unit="%" times={times} series={memory} />
          <LineChart title="Disk" unit="%" times={times} series={disk} />
          <LineChart title="Network (KB)" unit="KB" times={times} series={net} />
        </div>
      ) : null}
    </Card>
  );
}
