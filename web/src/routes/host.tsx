// A host: its containers (live from the event stream), images, volumes, networks and metrics.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useMemo, useState, type FormEvent } from "react";
import { api, ok, type Schemas, sendFile } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { LineChart } from "../components/chart.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Badge, Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { type Column, DataTable, RemoveButton, type Sort, type TableSpec, ROW_LINK } from "../components/ui/data-table.tsx";
import { Input, Select } from "../components/ui/input.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { useToast } from "../components/ui/toast.tsx";
import type { Container } from "../lib/container-events.ts";
import { ago, bytes } from "../lib/format.ts";
import { type RowAction, useList, useRowAction } from "../lib/use-list.ts";
import { useTask, useTaskEnd } from "../lib/use-task.ts";

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
type Action = "start" | "stop" | "restart" | "remove";
type ContainerAction = { id: string; name: string; action: Action };

function useContainerAction(hostId: string) {
  return useRowAction<ContainerAction>({
    run: ({ id, action }) => {
      const path = { hostId, id };
      if (action === "remove")
        return ok(api.DELETE("/api/v1/hosts/{hostId}/containers/{id}", { params: { path, query: { force: "true" } } }));
      if (action === "start") return ok(api.POST("/api/v1/hosts/{hostId}/containers/{id}/start", { params: { path } }));
      if (action === "stop") return ok(api.POST("/api/v1/hosts/{hostId}/containers/{id}/stop", { params: { path, query: {} } }));
      return ok(api.POST("/api/v1/hosts/{hostId}/containers/{id}/restart", { params: { path, query: {} } }));
    },
    confirm: (v) => (v.action === "remove" ? `Remove container ${v.name}? It is stopped first.` : undefined),
    done: (v) => `${v.name}: ${v.action === "remove" ? "removed" : `${v.action} done`}`,
    // The event stream moves the row too; this settles fields events do not carry (status text).
    invalidates: [keys.hosts.containers(hostId)],
    id: (v) => v.id,
  });
}

const CONTAINER_STATES = ["all", "running", "exited", "paused", "created", "restarting", "dead"];

export function ContainersTab({ hostId }: { hostId: string }) {
  const can = useCan();
  const containers = useQuery({
    queryKey: keys.hosts.containers(hostId),
    queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/containers", { params: { path: { hostId }, query: { all: "true" } } })),
  });
  const [filter, setFilter] = useState("");
  const [state, setState] = useState("all");
  const [sort, setSort] = useState<Sort>({ key: "name", desc: false });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const action = useContainerAction(hostId);
  const bulk = useRowAction<Exclude<Action, "remove">>({
    run: (a) =>
      ok(api.POST("/api/v1/hosts/{hostId}/containers/bulk", { params: { path: { hostId } }, body: { action: a, ids: [...selected] } })),
    done: (a) => `${a} of ${selected.size} container(s) started as a task`,
    invalidates: [keys.hosts.containers(hostId)],
    onDone: () => setSelected(new Set()),
  });

  const rows = useMemo(() => {
    const q = filter.toLowerCase();
    const list = (containers.data?.containers ?? []).filter(
      (c) =>
        (state === "all" || c.state === state) &&
        (!q || c.name.toLowerCase().includes(q) || c.image.toLowerCase().includes(q) || c.id.startsWith(q)),
    );
    const dir = sort.desc ? -1 : 1;
    const key = sort.key as SortKey;
    return list.sort((a, b) => dir * String(a[key]).localeCompare(String(b[key])));
  }, [containers.data, filter, state, sort]);

  const table: TableSpec<Container> = {
    columns: [
      {
        header: "Name",
        sortKey: "name",
        className: "max-w-[14rem] truncate",
        cell: (c) => (
          <>
            <Link to="/docker-hosts/$hostId/containers/$containerId" params={{ hostId, containerId: c.id }} className={ROW_LINK}>
              {c.name}
            </Link>
            {c.managed ? (
              <Badge tone="blue" title="Created through Pier">
                pier
              </Badge>
            ) : null}
          </>
        ),
      },
      {
        header: "State",
        sortKey: "state",
        cell: (c) => (
          <>
            <StateBadge state={c.state} data-testid="container-state" />{" "}
            <span className="hidden text-xs text-zinc-500 lg:inline">{c.status}</span>
          </>
        ),
      },
      { header: "Image", sortKey: "image", hideBelow: "sm", className: "max-w-[16rem] truncate", cell: (c) => c.image },
      { header: "Created", sortKey: "created_at", hideBelow: "md", cell: (c) => ago(c.created_at) },
    ],
    empty: "No container matches.",
    rowProps: (c) => ({ "data-testid": "container-row", "data-name": c.name, "data-state": c.state }),
  };

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
          {CONTAINER_STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </Select>
        {can.operate && selected.size > 0 ? (
          <div className="flex gap-1">
            {(["start", "stop", "restart"] as const).map((a) => (
              <Button key={a} size="sm" variant="secondary" busy={bulk.busy(a)} onClick={() => bulk.run(a)}>
                {a} {selected.size}
              </Button>
            ))}
          </div>
        ) : null}
      </div>
      <DataTable
        spec={table}
        state={containers}
        rows={containers.data ? rows : undefined}
        sort={{ value: sort, onChange: setSort }}
        select={can.operate ? { selected, onChange: setSelected, label: (c) => c.name } : undefined}
        actions={can.operate ? (c) => <ContainerActions c={c} action={action} /> : undefined}
      />
    </Card>
  );
}

function ContainerActions({ c, action }: { c: Container; action: RowAction<ContainerAction> }) {
  const running = c.state === "running" || c.state === "restarting" || c.state === "paused";
  const busy = action.busy({ id: c.id, name: c.name, action: "stop" });
  const act = (a: Action) => action.run({ id: c.id, name: c.name, action: a });
  return (
    <>
      {running ? (
        <Button size="sm" variant="secondary" busy={busy} onClick={() => act("stop")}>
          Stop
        </Button>
      ) : (
        <Button size="sm" variant="secondary" busy={busy} onClick={() => act("start")}>
          Start
        </Button>
      )}{" "}
      <Button size="sm" variant="secondary" disabled={busy} onClick={() => act("restart")}>
        Restart
      </Button>{" "}
      <Button size="sm" variant="danger" disabled={busy} onClick={() => act("remove")}>
        Remove
      </Button>
    </>
  );
}

type Image = Schemas["Image"];

const IMAGES: TableSpec<Image> = {
  columns: [
    {
      header: "Tags",
      className: "max-w-[20rem] truncate",
      cell: (i) => i.repo_tags.join(", ") || <span className="text-zinc-500">{i.short_id}</span>,
    },
    { header: "Size", cell: (i) => bytes(i.size) },
    { header: "Containers", hideBelow: "sm", cell: (i) => (i.containers >= 0 ? i.containers : "—") },
    { header: "Created", hideBelow: "md", cell: (i) => ago(i.created_at) },
  ],
  empty: "No image.",
  rowProps: () => ({ "data-testid": "image-row" }),
};

/** What an image row's actions name it by: its first tag, else its id. */
const reference = (i: Image) => i.repo_tags[0] ?? i.id;

function ImagesTab({ hostId }: { hostId: string }) {
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const { list: images, remove } = useList(
    {
      queryKey: keys.hosts.images(hostId),
      queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/images", { params: { path: { hostId } } })),
    },
    {
      run: (i: Image) => ok(api.DELETE("/api/v1/hosts/{hostId}/images/{image}", { params: { path: { hostId, image: reference(i) } } })),
      // Removing by a tag only untags an image that has others (as `docker rmi` does): say so.
      confirm: (i) =>
        i.repo_tags.length > 1
          ? `Remove the tag ${reference(i)}? The image stays, with its ${i.repo_tags.length - 1} other tag${i.repo_tags.length > 2 ? "s" : ""}.`
          : `Remove image ${reference(i)}?`,
      done: (i, r) => (r.deleted.length ? `Removed ${reference(i)}` : `Untagged ${reference(i)}`),
      id: (i) => i.id,
    },
  );
  const [taskId, setTaskId] = useState<string | null>(null);
  const task = useTask(taskId);
  const pull = useMutation({
    mutationFn: (image: string) => ok(api.POST("/api/v1/hosts/{hostId}/images/pull", { params: { path: { hostId } }, body: { image } })),
    onSuccess: (started) => setTaskId(started.task_id),
    onError: (err) => toast.error(err),
  });
  const status = task.data?.status;
  useTaskEnd(task.data, (t) => {
    if (t.status === "succeeded") {
      toast.ok("Pull finished");
      void qc.invalidateQueries({ queryKey: keys.hosts.images(hostId) });
    } else if (t.status === "failed") toast.error(t.message ?? "The pull failed");
  });

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    pull.mutate(String(new FormData(e.currentTarget).get("image")));
  };
  const [tar, setTar] = useState<File | null>(null);
  const load = useMutation({
    mutationFn: (file: File) => sendFile<{ images: string[] }>("POST", `/api/v1/hosts/${encodeURIComponent(hostId)}/images/load`, file),
    onSuccess: (loaded) => {
      toast.ok(loaded.images.length ? `Loaded ${loaded.images.join(", ")}` : "Loaded");
      void qc.invalidateQueries({ queryKey: keys.hosts.images(hostId) });
    },
    onError: (err) => toast.error(err),
  });
  const saveUrl = (i: Image) => `/api/v1/hosts/${encodeURIComponent(hostId)}/images/${encodeURIComponent(reference(i))}/save`;
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
      {can.operate ? (
        <div className="mb-3 flex flex-wrap items-center gap-2 text-sm">
          <PruneImages hostId={hostId} />
          <input
            type="file"
            aria-label="Image tar to load"
            accept=".tar,.tar.gz,.tgz,application/x-tar"
            onChange={(e) => setTar(e.currentTarget.files?.[0] ?? null)}
          />
          <Button variant="secondary" disabled={!tar} busy={load.isPending} onClick={() => tar && load.mutate(tar)}>
            Load image
          </Button>
        </div>
      ) : null}
      <DataTable
        spec={IMAGES}
        state={images}
        rows={images.data?.images}
        actions={
          can.operate
            ? (i) => (
                <>
                  <a className="mr-2 text-sm hover:underline" href={saveUrl(i)} download aria-label={`Save ${reference(i)} as tar`}>
                    Save
                  </a>
                  <RemoveButton busy={remove.busy(i)} onClick={() => remove.run(i)} />
                </>
              )
            : undefined
        }
      />
    </Card>
  );
}

/**
 * `docker image prune`, as Portainer's "Remove unused images": dangling images only, or with "all"
 * every image no container uses. A task on the host; its message says how much space came back.
 */
function PruneImages({ hostId }: { hostId: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [all, setAll] = useState(false);
  const [taskId, setTaskId] = useState<string | null>(null);
  const task = useTask(taskId);
  const prune = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/hosts/{hostId}/images/prune", { params: { path: { hostId } }, body: { all } })),
    onSuccess: (started) => setTaskId(started.task_id),
    onError: (err) => toast.error(err),
  });
  const status = task.data?.status;
  useTaskEnd(task.data, (t) => {
    if (t.status === "succeeded") {
      toast.ok(t.message ?? "Unused images removed");
      setOpen(false);
      void qc.invalidateQueries({ queryKey: keys.hosts.images(hostId) });
    } else if (t.status === "failed") toast.error(t.message ?? "The prune failed");
  });
  const running = prune.isPending || status === "queued" || status === "running";
  return (
    <>
      <Button
        variant="secondary"
        onClick={() => {
          setTaskId(null);
          setOpen(true);
        }}
      >
        Remove unused images
      </Button>
      <Dialog
        open={open}
        onOpenChange={(o) => (running ? null : setOpen(o))}
        title="Remove unused images"
        description="Images that a container uses, running or stopped, are kept."
      >
        <form
          onSubmit={(e) => {
            e.preventDefault();
            prune.mutate();
          }}
          className="space-y-3 text-sm"
        >
          <label className="flex items-start gap-2">
            <input type="radio" name="prune" checked={!all} onChange={() => setAll(false)} className="mt-1" />
            <span>
              Dangling images only <span className="text-zinc-500">(untagged: what rebuilds left behind)</span>
            </span>
          </label>
          <label className="flex items-start gap-2">
            <input type="radio" name="prune" checked={all} onChange={() => setAll(true)} className="mt-1" />
            <span>
              Every image no container uses <span className="text-zinc-500">(tagged ones too: they are pulled again when needed)</span>
            </span>
          </label>
          {task.data ? (
            <p className="flex items-center gap-2" data-testid="prune-progress">
              <StateBadge state={task.data.status} /> {task.data.message}
            </p>
          ) : null}
          <div className="flex justify-end gap-2">
            <Button type="button" variant="secondary" disabled={running} onClick={() => setOpen(false)}>
              Cancel
            </Button>
            <Button type="submit" variant="danger" busy={running}>
              Remove
            </Button>
          </div>
        </form>
      </Dialog>
    </>
  );
}

/** The engine lists volumes and networks in no stable order: by name, rows stay put between reads. */
const byName = <T extends { name: string }>(rows: readonly T[] | undefined) => rows?.toSorted((a, b) => a.name.localeCompare(b.name));

type Volume = Schemas["Volume"];
type VolumeUsage = { size: number | null; ref_count: number | null };

/**
 * The volume columns; Size and "Used by" only once sizes were measured. Docker's volume list never
 * carries sizes: only `GET /system/df` measures volumes, by walking every file of every local
 * volume (what `docker system df -v` does), so the tab asks for it on demand, never per listing.
 */
function volumeSpec(usage: Map<string, VolumeUsage> | null): TableSpec<Volume> {
  const measured = (v: Volume) => usage?.get(v.name);
  const name: Column<Volume> = {
    header: "Name",
    className: "max-w-[20rem] truncate",
    cell: (v) => (
      <>
        {v.name} <VolumeBackupsLink name={v.name} />
      </>
    ),
  };
  const driver: Column<Volume> = { header: "Driver", cell: (v) => v.driver };
  // A volume made after the measurement has none; another driver's size is unknown (null).
  const size: Column<Volume> = {
    header: "Size",
    hideBelow: "sm",
    cell: (v) => <span data-testid="volume-size">{bytes(measured(v)?.size)}</span>,
  };
  const usedBy: Column<Volume> = { header: "Used by", hideBelow: "md", cell: (v) => containerCount(measured(v)?.ref_count) };
  return {
    columns: usage ? [name, driver, size, usedBy] : [name, driver],
    rowKey: (v) => v.name,
    empty: "No volume.",
    rowProps: () => ({ "data-testid": "volume-row" }),
  };
}

const containerCount = (n: number | null | undefined) => (n == null ? "—" : n === 1 ? "1 container" : `${n} containers`);

/** The volume's backups and restore (the Backups screen, for this one target). */
function VolumeBackupsLink({ name }: { name: string }) {
  const { hostId } = useParams({ strict: false }) as { hostId: string };
  return (
    <Link
      to="/backups"
      search={{ kind: "volume", host: hostId, ref: name }}
      className="ml-1 text-xs text-sky-700 hover:underline dark:text-sky-400"
    >
      Backups
    </Link>
  );
}

function VolumesTab({ hostId }: { hostId: string }) {
  const can = useCan();
  const { list: volumes, remove } = useList(
    {
      queryKey: keys.hosts.volumes(hostId),
      queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/volumes", { params: { path: { hostId } } })),
    },
    {
      run: (name: string) => ok(api.DELETE("/api/v1/hosts/{hostId}/volumes/{name}", { params: { path: { hostId, name } } })),
      confirm: (name) => `Remove volume ${name}? Its data is deleted.`,
      done: (name) => `Removed volume ${name}`,
    },
  );
  // Measured when asked (one disk walk on the host), kept until asked again: removing a volume
  // re-reads the list, not the sizes.
  const [measure, setMeasure] = useState(false);
  const sizes = useQuery({
    queryKey: keys.hosts.volumeSizes(hostId),
    queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/volumes", { params: { path: { hostId }, query: { usage: "true" } } })),
    enabled: measure,
    staleTime: Number.POSITIVE_INFINITY,
  });
  const usage = useMemo(
    () => (sizes.data ? new Map(sizes.data.volumes.map((v) => [v.name, { size: v.size, ref_count: v.ref_count }])) : null),
    [sizes.data],
  );
  const spec = useMemo(() => volumeSpec(usage), [usage]);
  const qc = useQueryClient();
  const toast = useToast();
  const create = useMutation({
    mutationFn: (name: string) => ok(api.POST("/api/v1/hosts/{hostId}/volumes", { params: { path: { hostId } }, body: { name } })),
    onSuccess: (v) => {
      toast.ok(`Created volume ${v.name}`);
      void qc.invalidateQueries({ queryKey: keys.hosts.volumes(hostId) });
    },
    onError: (err) => toast.error(err),
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    create.mutate(String(new FormData(form).get("name")).trim(), { onSuccess: () => form.reset() });
  };
  return (
    <Card
      title="Volumes"
      actions={
        <>
          {sizes.data ? (
            <span className="self-center text-xs text-zinc-500">sizes measured {ago(new Date(sizes.dataUpdatedAt).toISOString())}</span>
          ) : null}
          <Button
            size="sm"
            variant="secondary"
            busy={sizes.isFetching}
            title="Measures every volume on the host (docker system df -v): a walk through all their files"
            onClick={() => (measure ? void sizes.refetch() : setMeasure(true))}
          >
            {sizes.data ? "Measure again" : "Measure sizes"}
          </Button>
        </>
      }
    >
      {can.operate ? (
        <form onSubmit={submit} className="mb-3 flex flex-wrap items-center gap-2">
          <Input name="name" aria-label="New volume name" placeholder="pg-data" required maxLength={255} className="max-w-xs" />
          <Button type="submit" variant="secondary" busy={create.isPending}>
            Create volume
          </Button>
        </form>
      ) : null}
      <ErrorNote error={sizes.error} />
      <DataTable
        spec={spec}
        state={volumes}
        rows={byName(volumes.data?.volumes)}
        actions={can.operate ? (v) => <RemoveButton busy={remove.busy(v.name)} onClick={() => remove.run(v.name)} /> : undefined}
      />
    </Card>
  );
}

type Network = Schemas["Network"];

const NETWORKS: TableSpec<Network> = {
  columns: [
    { header: "Name", cell: (n) => n.name },
    { header: "Driver", cell: (n) => n.driver },
    // Not the connected containers: the engine's network list leaves them out (always 0 here).
    {
      header: "Subnet",
      hideBelow: "sm",
      cell: (n) =>
        n.subnets
          .map((c) => c.subnet)
          .filter(Boolean)
          .join(", ") || "—",
    },
    {
      header: "Gateway",
      hideBelow: "md",
      cell: (n) =>
        n.subnets
          .map((c) => c.gateway)
          .filter(Boolean)
          .join(", ") || "—",
    },
  ],
  empty: "No network.",
  rowProps: () => ({ "data-testid": "network-row" }),
};

function NetworksTab({ hostId }: { hostId: string }) {
  const can = useCan();
  const { list: networks, remove } = useList(
    {
      queryKey: keys.hosts.networks(hostId),
      queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/networks", { params: { path: { hostId } } })),
    },
    {
      run: (n: Network) => ok(api.DELETE("/api/v1/hosts/{hostId}/networks/{network}", { params: { path: { hostId, network: n.id } } })),
      confirm: (n) => `Remove network ${n.name}?`,
      done: (n) => `Network ${n.name} removed`,
      id: (n) => n.id,
    },
  );
  const qc = useQueryClient();
  const toast = useToast();
  const create = useMutation({
    mutationFn: (body: { name: string; subnet?: string }) =>
      ok(api.POST("/api/v1/hosts/{hostId}/networks", { params: { path: { hostId } }, body })),
    onSuccess: (_, body) => {
      toast.ok(`Created network ${body.name}`);
      void qc.invalidateQueries({ queryKey: keys.hosts.networks(hostId) });
    },
    onError: (err) => toast.error(err),
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    const subnet = String(f.get("subnet")).trim();
    create.mutate({ name: String(f.get("name")).trim(), ...(subnet ? { subnet } : {}) }, { onSuccess: () => form.reset() });
  };
  return (
    <Card>
      {can.operate ? (
        // A bridge network; Docker picks the subnet unless one is given.
        <form onSubmit={submit} className="mb-3 flex flex-wrap items-center gap-2">
          <Input name="name" aria-label="New network name" placeholder="shop-net" required maxLength={255} className="max-w-xs" />
          <Input name="subnet" aria-label="Subnet (optional)" placeholder="subnet, e.g. 172.30.0.0/16 (optional)" className="max-w-xs" />
          <Button type="submit" variant="secondary" busy={create.isPending}>
            Create network
          </Button>
        </form>
      ) : null}
      <DataTable
        spec={NETWORKS}
        state={networks}
        rows={byName(networks.data?.networks)}
        actions={
          can.operate ? (n) => (n.predefined ? null : <RemoveButton busy={remove.busy(n)} onClick={() => remove.run(n)} />) : undefined
        }
      />
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
