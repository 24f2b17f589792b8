// Servers (issue 13): the inventory with filters, row selection and bulk actions run as tasks,
// the create and bulk-create dialogs, and two tabs for what servers are made from and guarded
// by: the roles catalog and the firewall groups. One lazy chunk (the detail page is another).
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearch } from "@tanstack/react-router";
import { useState } from "react";
import { useHostName, useHosts } from "../api/hosts.ts";
import { api, fieldError, ok } from "../api/client.ts";
import { type Server, serverKeys, TRANSITIONAL, usePermission, useProjects, useServerRoles } from "../api/servers.ts";
import { ApiForm } from "../components/api-form.tsx";
import { HostOptions } from "../components/host-options.tsx";
import { PageTitle } from "../components/layout.tsx";
import { TaskProgress } from "../components/task-progress.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, StateBadge } from "../components/ui/card.tsx";
import { DataTable, ROW_LINK, type TableSpec } from "../components/ui/data-table.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { useRowAction } from "../lib/use-list.ts";
import { FirewallGroupsTab } from "./firewall-groups.tsx";
import { ServerRolesTab } from "./server-roles.tsx";

const TABS = [
  { id: "inventory", label: "Inventory" },
  { id: "roles", label: "Roles" },
  { id: "firewall", label: "Firewall groups" },
] as const;
type Tab = (typeof TABS)[number]["id"];

const STATUSES = ["creating", "running", "stopped", "paused", "restarting", "error", "deleting"] as const;
type Status = (typeof STATUSES)[number];

interface ServersSearch {
  tab?: string;
  host?: string;
  role?: string;
  status?: string;
}

/** A task this screen started, shown above the list until dismissed. */
export interface StartedTask {
  id: string;
  label: string;
}

export function ServersPage() {
  const search = useSearch({ strict: false }) as ServersSearch;
  const navigate = useNavigate();
  const tab: Tab = TABS.some((t) => t.id === search.tab) ? (search.tab as Tab) : "inventory";
  return (
    <>
      <PageTitle>Servers</PageTitle>
      <Tabs tabs={TABS} value={tab} onChange={(id) => void navigate({ to: "/servers", search: { tab: id } })} />
      {tab === "inventory" ? <InventoryTab search={search} /> : tab === "roles" ? <ServerRolesTab /> : <FirewallGroupsTab />}
    </>
  );
}

// ---- inventory ------------------------------------------------------------------------------

function useServerColumns(): TableSpec<Server> {
  const hostName = useHostName();
  const projects = useProjects();
  const projectName = (id: string) => projects.data?.projects.find((p) => p.id === id)?.name ?? id;
  return {
    columns: [
      {
        header: "Name",
        cell: (s) => (
          <Link to="/servers/$serverId" params={{ serverId: s.id }} className={ROW_LINK}>
            {s.name}
          </Link>
        ),
      },
      { header: "Alias", hideBelow: "md", className: "tabular-nums", cell: (s) => s.alias },
      { header: "Host", hideBelow: "md", cell: (s) => (s.host_id ? hostName(s.host_id) : "—") },
      { header: "Role", hideBelow: "sm", cell: (s) => s.role ?? "—" },
      {
        header: "Status",
        cell: (s) => <StateBadge state={s.status} data-testid="server-status" title={s.last_error ?? undefined} />,
      },
      { header: "IP", className: "font-mono", cell: (s) => <span data-testid="server-ip">{s.ip_address ?? "—"}</span> },
      {
        header: "CPU / memory / disk",
        hideBelow: "lg",
        className: "whitespace-nowrap tabular-nums",
        cell: (s) =>
          [
            s.cpu != null ? `${s.cpu} cpu` : "—",
            s.memory_mb != null ? `${s.memory_mb} MB` : "—",
            s.disk_gb != null ? `${s.disk_gb} GB` : "—",
          ].join(" · "),
      },
      { header: "Project", hideBelow: "lg", cell: (s) => (s.project_id ? projectName(s.project_id) : "—") },
    ],
    empty: "No server yet.",
    rowProps: (s) => ({ "data-testid": "server-row", "data-name": s.name, "data-status": s.status }),
  };
}

type BulkAction = "start" | "stop" | "reboot" | "delete";

function InventoryTab({ search }: { search: ServersSearch }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const can = usePermission();
  const [creating, setCreating] = useState<"one" | "bulk" | null>(null);
  const [task, setTask] = useState<StartedTask | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const filter = {
    host: search.host || undefined,
    role: search.role || undefined,
    status: STATUSES.includes(search.status as Status) ? search.status : undefined,
  };
  const list = useServers(filter, !!task);
  const roles = useServerRoles();
  const spec = useServerColumns();
  const setFilter = (patch: Partial<ServersSearch>) =>
    void navigate({ to: "/servers", search: { ...search, tab: "inventory", ...patch }, replace: true });

  const servers = list.data?.servers;
  // Selected rows that are still listed (a filter or a delete may have taken some away).
  const chosen = (servers ?? []).filter((s) => selected.has(s.id));
  const bulk = useRowAction<BulkAction, { task_id: string }>({
    run: (action) => ok(api.POST("/api/v1/servers/bulk-actions", { body: { action, servers: chosen.map((s) => s.id) } })),
    confirm: (action) =>
      action === "delete"
        ? `Delete ${chosen.length} server${chosen.length === 1 ? "" : "s"} (${chosen.map((s) => s.name).join(", ")}) with their data volumes?`
        : undefined,
    done: (action) => `${action[0]!.toUpperCase()}${action.slice(1)} of ${chosen.length} server${chosen.length === 1 ? "" : "s"} started`,
    onDone: (action, r) => {
      setTask({
        id: r.task_id,
        label: `${action[0]!.toUpperCase()}${action.slice(1)} ${chosen.length} server${chosen.length === 1 ? "" : "s"}`,
      });
      if (action === "delete") setSelected(new Set());
    },
    invalidates: [serverKeys.all],
  });
  const manage = can("manage_servers");
  // Statuses move through tasks; a container changed behind Pier's back shows after a sync.
  const sync = useRowAction<undefined, { changes: unknown[]; missing: string[]; orphans: unknown[] }>({
    run: () => ok(api.POST("/api/v1/servers/sync")),
    done: (_v, r) =>
      `Synced: ${r.changes.length} status change${r.changes.length === 1 ? "" : "s"}, ${r.missing.length} missing, ${r.orphans.length} unknown container${r.orphans.length === 1 ? "" : "s"}`,
    invalidates: [serverKeys.all],
  });

  return (
    <>
      <div className="mb-3 flex flex-wrap items-end gap-2">
        <Select
          aria-label="Host"
          className="w-40"
          value={filter.host ?? ""}
          onChange={(e) => setFilter({ host: e.target.value || undefined })}
        >
          <option value="">All hosts</option>
          <HostOptions />
        </Select>
        <Select
          aria-label="Role"
          className="w-40"
          value={filter.role ?? ""}
          onChange={(e) => setFilter({ role: e.target.value || undefined })}
        >
          <option value="">All roles</option>
          {roles.data?.roles.map((r) => (
            <option key={r.id} value={r.name}>
              {r.name}
            </option>
          ))}
        </Select>
        <Select
          aria-label="Status"
          className="w-40"
          value={filter.status ?? ""}
          onChange={(e) => setFilter({ status: e.target.value || undefined })}
        >
          <option value="">Any status</option>
          {STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </Select>
        {can("create_server") || manage ? (
          <div className="ml-auto flex gap-2">
            {manage ? (
              <Button variant="ghost" busy={sync.pending} onClick={() => sync.run(undefined)}>
                Sync
              </Button>
            ) : null}
          </div>
        ) : null}
        {can("create_server") ? (
          <div className="flex gap-2">
            <Button variant="secondary" onClick={() => setCreating("bulk")}>
              Bulk create
            </Button>
            <Button onClick={() => setCreating("one")}>Create server</Button>
          </div>
        ) : null}
      </div>
      <Dialog open={creating === "one"} onOpenChange={(o) => setCreating(o ? "one" : null)} title="Create a server">
        <CreateServer
          onDone={(t) => {
            setCreating(null);
            setTask(t);
            void qc.invalidateQueries({ queryKey: serverKeys.all });
          }}
        />
      </Dialog>
      <Dialog
        open={creating === "bulk"}
        onOpenChange={(o) => setCreating(o ? "bulk" : null)}
        title="Create servers in bulk"
        description="Named <prefix>-01, <prefix>-02…; with a range, each gets the next free address from it."
      >
        <BulkCreate
          onDone={(t) => {
            setCreating(null);
            setTask(t);
            void qc.invalidateQueries({ queryKey: serverKeys.all });
          }}
        />
      </Dialog>
      {task ? (
        <TaskProgress
          key={task.id}
          taskId={task.id}
          label={task.label}
          onEnd={() => void qc.invalidateQueries({ queryKey: serverKeys.all })}
          onClose={() => setTask(null)}
        />
      ) : null}
      {manage && chosen.length > 0 ? (
        <div role="toolbar" aria-label="Bulk actions" className="mb-3 flex flex-wrap items-center gap-2 text-sm">
          <span data-testid="selected-count">{chosen.length} selected</span>
          {(["start", "stop", "reboot"] as const).map((a) => (
            <Button key={a} size="sm" variant="secondary" busy={bulk.busy(a)} disabled={bulk.pending} onClick={() => bulk.run(a)}>
              {a[0]!.toUpperCase() + a.slice(1)}
            </Button>
          ))}
          <Button size="sm" variant="danger" busy={bulk.busy("delete")} disabled={bulk.pending} onClick={() => bulk.run("delete")}>
            Delete
          </Button>
        </div>
      ) : null}
      {servers?.some((x) => x.status === "error") ? <FailedServers manage={manage} onTask={(t) => setTask(t)} /> : null}
      <Card>
        <DataTable
          spec={spec}
          state={list}
          rows={servers}
          select={manage ? { selected, onChange: setSelected, label: (s) => s.name } : undefined}
        />
      </Card>
    </>
  );
}

/** Why servers failed (read only while the inventory shows one in error), and cleaning them up as a task. */
function FailedServers({ manage, onTask }: { manage: boolean; onTask: (t: StartedTask) => void }) {
  const failed = useQuery({ queryKey: [...serverKeys.all, "failed"], queryFn: () => ok(api.GET("/api/v1/servers/failed")) });
  const clean = useRowAction<undefined, { task_id: string | null }>({
    // 202 with the task, or 200 when nothing had failed after all.
    run: () =>
      ok(api.POST("/api/v1/servers/cleanup", { body: {} })).then((r) => ({
        task_id: "task_id" in r && typeof r.task_id === "string" ? r.task_id : null,
      })),
    confirm: () => "Clean up every failed server: remove its container, data volumes and record?",
    done: (_v, r) => (r.task_id ? "Cleanup started" : "Nothing to clean"),
    onDone: (_v, r) => {
      if (r.task_id) onTask({ id: r.task_id, label: "Clean up failed servers" });
    },
    invalidates: [serverKeys.all],
  });
  const list = failed.data?.servers ?? [];
  if (!list.length) return null;
  return (
    <Card
      className="mb-4"
      title={`${list.length} failed server${list.length === 1 ? "" : "s"}`}
      actions={
        manage ? (
          <Button size="sm" variant="danger" busy={clean.pending} onClick={() => clean.run(undefined)}>
            Clean up
          </Button>
        ) : null
      }
    >
      <ul className="grid gap-1 text-sm" data-testid="failed-servers">
        {list.map((f) => (
          <li key={f.server.id}>
            <Link to="/servers/$serverId" params={{ serverId: f.server.id }} className={ROW_LINK}>
              {f.server.name}
            </Link>
            : {f.reasons.join("; ") || f.task?.message || "failed"}
          </li>
        ))}
      </ul>
    </Card>
  );
}

/**
 * The inventory. Statuses change through tasks, so it is read again every 2 s while one this
 * screen started runs or a server is on its way somewhere, and every 15 s otherwise.
 */
function useServers(filter: { host?: string; role?: string; status?: string }, following: boolean) {
  return useQuery({
    queryKey: serverKeys.list(filter),
    queryFn: () =>
      ok(
        api.GET("/api/v1/servers", {
          params: {
            query: {
              limit: 200,
              ...(filter.host ? { host_id: filter.host } : {}),
              ...(filter.role ? { role: filter.role } : {}),
              ...(filter.status ? { status: filter.status as Status } : {}),
            },
          },
        }),
      ),
    refetchInterval: (q) => (following || q.state.data?.servers.some((s) => TRANSITIONAL.has(s.status)) ? 2000 : 15_000),
  });
}

// ---- create --------------------------------------------------------------------------------------

/** What every new server takes, in the create and the bulk-create dialogs. */
interface Spec {
  role: string;
  image: string;
  host_id: string;
  project_id: string;
  cpu: string;
  memory_mb: string;
  disk_gb: string;
}

const EMPTY_SPEC: Spec = { role: "", image: "", host_id: "", project_id: "", cpu: "", memory_mb: "", disk_gb: "" };

const num = (v: string) => (v.trim() === "" ? undefined : Number(v));

function specBody(s: Spec) {
  return {
    ...(s.role ? { role: s.role } : {}),
    ...(s.image.trim() ? { image: s.image.trim() } : {}),
    ...(s.project_id ? { project_id: s.project_id } : {}),
    ...(num(s.cpu) !== undefined ? { cpu: num(s.cpu) } : {}),
    ...(num(s.memory_mb) !== undefined ? { memory_mb: num(s.memory_mb) } : {}),
    ...(num(s.disk_gb) !== undefined ? { disk_gb: num(s.disk_gb) } : {}),
  };
}

function SpecFields({ spec, set, error, prefix }: { spec: Spec; set: (p: Partial<Spec>) => void; error: unknown; prefix: string }) {
  const roles = useServerRoles();
  const projects = useProjects();
  const hosts = useHosts();
  const fe = (f: string) => fieldError(error, `${prefix}${f}`);
  // The chosen host's CPU count as its agent reported it: the API refuses a larger limit.
  const cores = hosts.data?.hosts.find((h) => h.id === spec.host_id)?.cpus ?? null;
  return (
    <>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Role" hint="The template: image, command, ports, data path" error={fe("role")}>
          <Select name="role" value={spec.role} onChange={(e) => set({ role: e.target.value })}>
            <option value="">No role (give an image)</option>
            {roles.data?.roles.map((r) => (
              <option key={r.id} value={r.name}>
                {r.name} ({r.image})
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Image" hint={spec.role ? "Optional: overrides the role's" : "Needed without a role"} error={fe("image")}>
          <Input name="image" value={spec.image} onChange={(e) => set({ image: e.target.value })} placeholder="nginx:1.27" />
        </Field>
        <Field label="Host" hint="Any online host when left alone">
          <Select name="host_id" value={spec.host_id} onChange={(e) => set({ host_id: e.target.value })}>
            <option value="">Any online host</option>
            <HostOptions status />
          </Select>
        </Field>
        <Field label="Project" error={fe("project_id")}>
          <Select name="project_id" value={spec.project_id} onChange={(e) => set({ project_id: e.target.value })}>
            <option value="">None</option>
            {projects.data?.projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </Select>
        </Field>
      </div>
      <div className="grid grid-cols-3 gap-3">
        <Field label="CPU (cores)" hint={cores ? `The host has ${cores}` : undefined} error={fe("cpu")}>
          <Input name="cpu" type="number" min="0.01" step="0.01" value={spec.cpu} onChange={(e) => set({ cpu: e.target.value })} />
        </Field>
        <Field label="Memory (MB)" error={fe("memory_mb")}>
          <Input
            name="memory_mb"
            type="number"
            min="6"
            step="1"
            value={spec.memory_mb}
            onChange={(e) => set({ memory_mb: e.target.value })}
          />
        </Field>
        <Field label="Disk (GB)" error={fe("disk_gb")}>
          <Input name="disk_gb" type="number" min="1" step="1" value={spec.disk_gb} onChange={(e) => set({ disk_gb: e.target.value })} />
        </Field>
      </div>
    </>
  );
}

/** The network fields both dialogs share; `address` is one IP (create) or a range (bulk create). */
function NetworkFields({
  net,
  set,
  address,
  error,
}: {
  net: { subnet: string; gateway: string; address: string };
  set: (p: Partial<{ subnet: string; gateway: string; address: string }>) => void;
  /** `field`: the address's name in the body's network (ip_address or ip_range). */
  address: { label: string; hint: string; placeholder: string; field: string };
  error: unknown;
}) {
  const fe = (f: string) => fieldError(error, `network/${f}`);
  return (
    <fieldset className="grid gap-3 sm:grid-cols-3">
      <legend className="mb-1 text-sm font-medium">Network (optional)</legend>
      <Field label="Subnet" hint="A CIDR, a prefix length or a mask" error={fe("subnet")}>
        <Input name="subnet" value={net.subnet} onChange={(e) => set({ subnet: e.target.value })} placeholder="192.168.10.0/24" />
      </Field>
      <Field label="Gateway" error={fe("gateway")}>
        <Input name="gateway" value={net.gateway} onChange={(e) => set({ gateway: e.target.value })} placeholder="192.168.10.1" />
      </Field>
      <Field label={address.label} hint={address.hint} error={fe(address.field)}>
        <Input name="address" value={net.address} onChange={(e) => set({ address: e.target.value })} placeholder={address.placeholder} />
      </Field>
    </fieldset>
  );
}

function useSpecForm() {
  const [spec, setSpec] = useState<Spec>(EMPTY_SPEC);
  const [net, setNet] = useState({ subnet: "", gateway: "", address: "" });
  return {
    spec,
    setSpec: (p: Partial<Spec>) => setSpec((s) => ({ ...s, ...p })),
    net,
    setNet: (p: Partial<typeof net>) => setNet((n) => ({ ...n, ...p })),
  };
}

const networkBody = (net: { subnet: string; gateway: string }) => ({
  ...(net.subnet.trim() ? { subnet: net.subnet.trim() } : {}),
  ...(net.gateway.trim() ? { gateway: net.gateway.trim() } : {}),
});

function CreateServer({ onDone }: { onDone: (t: StartedTask) => void }) {
  const [name, setName] = useState("");
  const form = useSpecForm();
  const [error, setError] = useState<unknown>(null);
  const network = { ...networkBody(form.net), ...(form.net.address.trim() ? { ip_address: form.net.address.trim() } : {}) };
  return (
    <ApiForm
      submit={() =>
        ok(
          api.POST("/api/v1/servers", {
            body: {
              name: name.trim(),
              ...specBody(form.spec),
              ...(form.spec.host_id ? { host_id: form.spec.host_id } : {}),
              ...(Object.keys(network).length ? { network } : {}),
            },
          }),
        ).catch((e: unknown) => {
          setError(e);
          throw e;
        })
      }
      done={(r) => `Creating ${r.servers[0]?.name ?? name}`}
      onDone={(r) => onDone({ id: r.task_id, label: `Create ${r.servers[0]?.name ?? name}` })}
      action="Create"
    >
      <Field label="Name" hint="Letters, digits, '-' and '.'; unique in the organization" error={fieldError(error, "name")}>
        <Input name="name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="web-server-01" />
      </Field>
      <SpecFields spec={form.spec} set={form.setSpec} error={error} prefix="" />
      <NetworkFields
        net={form.net}
        set={form.setNet}
        address={{ label: "IP address", hint: "Static, inside the subnet", placeholder: "192.168.10.21", field: "ip_address" }}
        error={error}
      />
    </ApiForm>
  );
}

function BulkCreate({ onDone }: { onDone: (t: StartedTask) => void }) {
  const [count, setCount] = useState("3");
  const [prefix, setPrefix] = useState("");
  const form = useSpecForm();
  const [error, setError] = useState<unknown>(null);
  const network = { ...networkBody(form.net), ...(form.net.address.trim() ? { ip_range: form.net.address.trim() } : {}) };
  return (
    <ApiForm
      submit={() =>
        ok(
          api.POST("/api/v1/servers/bulk", {
            body: {
              count: Number(count),
              name_prefix: prefix.trim(),
              template: specBody(form.spec),
              ...(form.spec.host_id ? { host_id: form.spec.host_id } : {}),
              ...(Object.keys(network).length ? { network } : {}),
            },
          }),
        ).catch((e: unknown) => {
          setError(e);
          throw e;
        })
      }
      done={(r) => `Creating ${r.servers.length} servers`}
      onDone={(r) => onDone({ id: r.task_id, label: `Create ${r.servers.map((s) => s.name).join(", ")}` })}
      action="Create servers"
    >
      <div className="grid grid-cols-[6rem_1fr] gap-3">
        <Field label="Count" error={fieldError(error, "count")}>
          <Input name="count" type="number" min="1" max="100" required value={count} onChange={(e) => setCount(e.target.value)} />
        </Field>
        <Field label="Name prefix" error={fieldError(error, "name_prefix")}>
          <Input name="name_prefix" required value={prefix} onChange={(e) => setPrefix(e.target.value)} placeholder="web-server" />
        </Field>
      </div>
      <SpecFields spec={form.spec} set={form.setSpec} error={error} prefix="template/" />
      <NetworkFields
        net={form.net}
        set={form.setNet}
        address={{ label: "IP range", hint: "first-last, or a CIDR", placeholder: "192.168.10.21-192.168.10.30", field: "ip_range" }}
        error={error}
      />
    </ApiForm>
  );
}
