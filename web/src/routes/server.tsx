// One server: its status and actions, its configuration (limits changed live; image, command,
// environment, ports and a role change recreate it, which the confirmation says), its logs, its
// disks and its firewall groups, with a link to its backups. Everything that takes time runs as a
// task, followed here.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useEffect, useRef, useState } from "react";
import { api, fieldError, ok } from "../api/client.ts";
import { useHostName } from "../api/hosts.ts";
import { type Server, serverKeys, TRANSITIONAL, useFirewallGroups, usePermission, useProjects, useServerRoles } from "../api/servers.ts";
import { ApiForm } from "../components/api-form.tsx";
import { PageTitle } from "../components/layout.tsx";
import { LogViewer } from "../components/log-viewer.tsx";
import { TaskProgress } from "../components/task-progress.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { DataTable, RemoveButton, ROW_LINK, type TableSpec } from "../components/ui/data-table.tsx";
import { CodeArea, EnvLinesField, Field, Input, Select } from "../components/ui/input.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { ago } from "../lib/format.ts";
import { parseEnvLines, rowsToEnv } from "../lib/env-edit.ts";
import { LogBuffer } from "../lib/log-buffer.ts";
import { type PortEntry, parsePorts, portsText } from "../lib/ports.ts";
import { useRowAction } from "../lib/use-list.ts";
import type { StartedTask } from "./servers.tsx";
import { PushReport } from "./firewall-groups.tsx";

const TABS = [
  { id: "overview", label: "Overview" },
  { id: "logs", label: "Logs" },
  { id: "disks", label: "Disks" },
  { id: "firewall", label: "Firewall" },
] as const;
type Tab = (typeof TABS)[number]["id"];

type Action = "start" | "stop" | "reboot" | "delete";

export function ServerPage() {
  const { serverId } = useParams({ from: "/app/servers/$serverId" });
  const { tab } = useSearch({ from: "/app/servers/$serverId" });
  const navigate = useNavigate();
  const qc = useQueryClient();
  const can = usePermission();
  const [task, setTask] = useState<StartedTask | null>(null);
  const server = useQuery({
    queryKey: serverKeys.detail(serverId),
    // Its status as its container has it now (the list's is the last one a task or a sync wrote).
    queryFn: () => ok(api.GET("/api/v1/servers/{ref}/status", { params: { path: { ref: serverId } } })),
    refetchInterval: (q) => (task || (q.state.data && TRANSITIONAL.has(q.state.data.status)) ? 2000 : 15_000),
  });
  const current: Tab = TABS.some((t) => t.id === tab) ? (tab as Tab) : "overview";
  const act = useRowAction<Action, { task_id: string }>({
    run: (action) => {
      const path = { ref: serverId };
      if (action === "delete") return ok(api.DELETE("/api/v1/servers/{ref}", { params: { path, query: {} } }));
      if (action === "start") return ok(api.POST("/api/v1/servers/{ref}/start", { params: { path } }));
      if (action === "stop") return ok(api.POST("/api/v1/servers/{ref}/stop", { params: { path } }));
      return ok(api.POST("/api/v1/servers/{ref}/reboot", { params: { path } }));
    },
    confirm: (action) =>
      action === "delete" ? `Delete ${server.data?.name ?? "this server"}: its container and its data volumes?` : undefined,
    done: (action) => `${label(action)} started`,
    onDone: (action, r) => {
      if (action === "delete") void navigate({ to: "/servers" });
      else setTask({ id: r.task_id, label: label(action) });
    },
    invalidates: [serverKeys.all],
  });
  const s = server.data;
  const started = (t: StartedTask) => {
    setTask(t);
    void qc.invalidateQueries({ queryKey: serverKeys.all });
  };
  return (
    <>
      <PageTitle
        actions={
          s && can("manage_servers") ? (
            <>
              {(["start", "stop", "reboot"] as const).map((a) => (
                <Button key={a} size="sm" variant="secondary" busy={act.busy(a)} disabled={act.pending} onClick={() => act.run(a)}>
                  {label(a)}
                </Button>
              ))}
              <Button size="sm" variant="danger" busy={act.busy("delete")} disabled={act.pending} onClick={() => act.run("delete")}>
                Delete
              </Button>
            </>
          ) : null
        }
      >
        <Link to="/servers" className="text-zinc-500 hover:underline">
          Servers
        </Link>{" "}
        / {s?.name ?? "…"} {s ? <StateBadge state={s.status} data-testid="server-status" /> : null}
      </PageTitle>
      <ErrorNote error={server.error} />
      {s?.last_error ? <ErrorNote error={s.last_error} /> : null}
      {s && !s.host_reachable ? (
        <p role="status" className="mb-3 text-sm text-amber-700 dark:text-amber-400">
          Its host is not connected: the status is the last one known.
        </p>
      ) : null}
      {task ? (
        <TaskProgress
          key={task.id}
          taskId={task.id}
          label={task.label}
          onEnd={() => void qc.invalidateQueries({ queryKey: serverKeys.all })}
          onClose={() => setTask(null)}
        />
      ) : null}
      <Tabs tabs={TABS} value={current} onChange={(id) => void navigate({ to: ".", search: { tab: id }, replace: true })} />
      {!s ? (
        server.isPending ? (
          <p role="status" className="py-6 text-center text-sm text-zinc-500">
            Loading…
          </p>
        ) : null
      ) : current === "overview" ? (
        <Overview server={s} onTask={started} />
      ) : current === "logs" ? (
        <Logs server={s} />
      ) : current === "disks" ? (
        <Disks server={s} onTask={started} />
      ) : (
        <Firewall server={s} />
      )}
    </>
  );
}

const label = (a: Action | string) => `${a[0]!.toUpperCase()}${a.slice(1)}`;

// ---- overview -----------------------------------------------------------------------------------

function Overview({ server: s, onTask }: { server: Server; onTask: (t: StartedTask) => void }) {
  const hostName = useHostName();
  const projects = useProjects();
  const can = usePermission();
  const hostLink = s.host_id ? (
    <Link to="/docker-hosts/$hostId" params={{ hostId: s.host_id }} className={ROW_LINK}>
      {hostName(s.host_id)}
    </Link>
  ) : (
    "—"
  );
  const containerLink =
    s.host_id && s.container_id ? (
      <Link
        to="/docker-hosts/$hostId/containers/$containerId"
        params={{ hostId: s.host_id, containerId: s.container_id }}
        className={ROW_LINK}
      >
        {s.container_name}
      </Link>
    ) : (
      s.container_name
    );
  const projectName = s.project_id ? (projects.data?.projects.find((p) => p.id === s.project_id)?.name ?? s.project_id) : "—";
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <Card title="Details">
        <dl className="grid grid-cols-[8rem_1fr] gap-x-3 gap-y-1.5 text-sm">
          <Item k="Alias">{s.alias}</Item>
          <Item k="Host">{hostLink}</Item>
          <Item k="IP address">
            <span data-testid="server-ip">{s.ip_address ?? "—"}</span>
          </Item>
          <Item k="Network">{s.network_name ?? "—"}</Item>
          <Item k="Image">
            <span className="font-mono text-xs break-all">{s.image}</span>
          </Item>
          <Item k="Container">{containerLink}</Item>
          <Item k="Data volume">
            <span className="font-mono text-xs break-all">{s.volume_name}</span>
          </Item>
          <Item k="Project">{projectName}</Item>
          <Item k="Created">{ago(s.created_at)}</Item>
          <Item k="Backups">
            <Link to="/backups" search={{ kind: "server", ref: s.id }} className={ROW_LINK}>
              Backups of this server
            </Link>
          </Item>
        </dl>
      </Card>
      <div className="grid content-start gap-4">
        <Card title="Limits">{can("manage_servers") ? <LimitsForm server={s} /> : <LimitsText server={s} />}</Card>
        <Card title="Role">
          {can("assign_roles") ? <RoleForm server={s} onTask={onTask} /> : <p className="text-sm">{s.role ?? "No role"}</p>}
        </Card>
      </div>
      {can("manage_servers") ? (
        <Card title="Image, command, environment and ports" className="lg:col-span-2">
          {/* Read again from the server once a recreate has changed it. */}
          <ContainerForm key={`${s.image} ${JSON.stringify(s.config)} ${s.has_env}`} server={s} onTask={onTask} />
        </Card>
      ) : null}
    </div>
  );
}

const Item = ({ k, children }: { k: string; children: React.ReactNode }) => (
  <>
    <dt className="text-zinc-500">{k}</dt>
    <dd className="min-w-0">{children}</dd>
  </>
);

const LimitsText = ({ server: s }: { server: Server }) => (
  <p className="text-sm">
    {s.cpu ?? "—"} cpu · {s.memory_mb ?? "—"} MB memory · {s.disk_gb ?? "—"} GB disk
  </p>
);

/** CPU and memory change on the running container, without a restart. */
function LimitsForm({ server: s }: { server: Server }) {
  const qc = useQueryClient();
  const [cpu, setCpu] = useState(s.cpu?.toString() ?? "");
  const [memory, setMemory] = useState(s.memory_mb?.toString() ?? "");
  const [error, setError] = useState<unknown>(null);
  return (
    <ApiForm
      submit={() =>
        ok(
          api.PATCH("/api/v1/servers/{ref}/config", {
            params: { path: { ref: s.id } },
            body: { cpu: cpu.trim() ? Number(cpu) : null, memory_mb: memory.trim() ? Number(memory) : null },
          }),
        ).catch((e: unknown) => {
          setError(e);
          throw e;
        })
      }
      done={(r) => (r.live.length ? `Changed live: ${r.live.join(", ")}` : "Nothing changed")}
      onDone={() => void qc.invalidateQueries({ queryKey: serverKeys.all })}
      action="Apply limits"
    >
      <div className="grid grid-cols-2 gap-3">
        <Field label="CPU (cores)" hint="Empty: no limit" error={fieldError(error, "cpu")}>
          <Input name="cpu" type="number" min="0.01" step="0.01" value={cpu} onChange={(e) => setCpu(e.target.value)} />
        </Field>
        <Field label="Memory (MB)" hint="Empty: no limit" error={fieldError(error, "memory_mb")}>
          <Input name="memory_mb" type="number" min="6" step="1" value={memory} onChange={(e) => setMemory(e.target.value)} />
        </Field>
      </div>
      <p className="text-xs text-zinc-500">Applied to the running container at once, without a restart. Disk: {s.disk_gb ?? "—"} GB.</p>
    </ApiForm>
  );
}

const commandOf = (s: Server): string[] =>
  Array.isArray(s.config.command) ? s.config.command.filter((a): a is string => typeof a === "string") : [];
const portsOf = (s: Server): PortEntry[] => (Array.isArray(s.config.ports) ? (s.config.ports as PortEntry[]) : []);

/**
 * What 004's config change does by a recreate: the container is replaced with the new image,
 * command, environment or ports, keeping its data volume and address. Only what was changed is
 * sent; environment values are never read back, so lines typed replace the server's own variables.
 */
function ContainerForm({ server: s, onTask }: { server: Server; onTask: (t: StartedTask) => void }) {
  const [image, setImage] = useState(s.image);
  const [command, setCommand] = useState(commandOf(s).join("\n"));
  const [portText, setPortText] = useState(portsText(portsOf(s)));
  const [envText, setEnvText] = useState("");
  const [clearEnv, setClearEnv] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ports = parsePorts(portText);
  const env = parseEnvLines(envText);
  const body = () => {
    if (!ports) throw new Error("Ports: container ports separated by commas, such as 80, 8080:80 or 53/udp");
    if (env.rejected.length) throw new Error(`Environment: not KEY=value: ${env.rejected.join(", ")}`);
    const args = command.split("\n").filter((l) => l.length > 0);
    const out: { image?: string; command?: string[] | null; ports?: PortEntry[]; env?: Record<string, string> } = {};
    if (image.trim() !== s.image) out.image = image.trim();
    if (args.join("\n") !== commandOf(s).join("\n")) out.command = args.length ? args : null;
    if (portsText(ports) !== portsText(portsOf(s))) out.ports = ports;
    if (env.rows.length) out.env = rowsToEnv(env.rows);
    else if (clearEnv) out.env = {};
    return out;
  };
  const changed = () => {
    try {
      return Object.keys(body());
    } catch {
      return [];
    }
  };
  return (
    <ApiForm
      submit={async () => {
        const patch = body();
        if (Object.keys(patch).length === 0) throw new Error("Nothing changed: edit a field first.");
        setError(null);
        try {
          return await ok(api.PATCH("/api/v1/servers/{ref}/config", { params: { path: { ref: s.id } }, body: patch }));
        } catch (e) {
          setError(e);
          throw e;
        }
      }}
      confirm={() => {
        const fields = changed();
        return fields.length
          ? `Change the ${fields.join(", ")} of ${s.name}? The server is recreated: its container is replaced (a short outage); its data volume and address are kept.`
          : undefined;
      }}
      done={(r) => (r.task_id ? `Recreate started (${r.recreate.join(", ")})` : "Nothing changed")}
      onDone={(r) => {
        if (r.task_id) onTask({ id: r.task_id, label: `Recreate: ${r.recreate.join(", ")}` });
      }}
      action="Recreate with these"
    >
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Image" error={fieldError(error, "image")}>
          <Input name="image" required value={image} onChange={(e) => setImage(e.target.value)} />
        </Field>
        <Field
          label="Ports"
          hint="Container ports: 80 or 53/udp; 8080:80 publishes 80 on the host's 8080"
          error={ports ? fieldError(error, "ports") : "Not a list of ports"}
        >
          <Input name="ports" value={portText} onChange={(e) => setPortText(e.target.value)} />
        </Field>
        <Field label="Command" hint="One argument per line; empty for the image's own" error={fieldError(error, "command")}>
          <CodeArea name="command" value={command} onChange={(e) => setCommand(e.target.value)} />
        </Field>
        <EnvLinesField
          hint={
            s.has_env
              ? "KEY=value lines replace all of the server's own variables (their values are never shown); empty keeps them"
              : "KEY=value lines, sealed at rest; the role's variables stay unless named here"
          }
          value={envText}
          onChange={setEnvText}
          rejected={env.rejected}
          apiError={fieldError(error, "env")}
        />
      </div>
      {s.has_env && !env.rows.length ? (
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="clear_env" checked={clearEnv} onChange={(e) => setClearEnv(e.target.checked)} />
          Remove the server's own variables
        </label>
      ) : null}
      <p className="text-xs text-zinc-500">
        Changing any of these recreates the server from them: its container is replaced, its data volume and address are kept.
      </p>
    </ApiForm>
  );
}

function RoleForm({ server: s, onTask }: { server: Server; onTask: (t: StartedTask) => void }) {
  const roles = useServerRoles();
  const [role, setRole] = useState(s.role ?? "");
  return (
    <ApiForm
      submit={() => ok(api.PUT("/api/v1/servers/{ref}/role", { params: { path: { ref: s.id } }, body: { role: role || null } }))}
      confirm={() =>
        `${role ? `Assign the role ${role} to` : "Remove the role from"} ${s.name}? The server is recreated${role ? ` from ${role}'s template` : ""}: its container is replaced (a short outage); its data volume and address are kept.`
      }
      done={() => "Recreate started"}
      onDone={(r) => onTask({ id: r.task_id, label: role ? `Assign ${role}` : "Remove the role" })}
      action="Change role"
    >
      <Field label="Role" hint="A change recreates the server from the role's template">
        <Select name="role" value={role} onChange={(e) => setRole(e.target.value)}>
          <option value="">No role</option>
          {roles.data?.roles.map((r) => (
            <option key={r.id} value={r.name}>
              {r.name}
            </option>
          ))}
        </Select>
      </Field>
    </ApiForm>
  );
}

// ---- logs ----------------------------------------------------------------------------------------

function Logs({ server: s }: { server: Server }) {
  const buffer = useRef(new LogBuffer()).current;
  const logs = useQuery({
    queryKey: serverKeys.logs(s.id),
    queryFn: () => ok(api.GET("/api/v1/servers/{ref}/logs", { params: { path: { ref: s.id }, query: { tail: 500 } } })),
  });
  useEffect(() => {
    buffer.clear();
    for (const l of logs.data?.lines ?? []) buffer.append(l.stream, l.text);
  }, [logs.data, buffer]);
  return (
    <Card
      title="Last 500 lines"
      actions={
        <Button size="sm" variant="secondary" busy={logs.isFetching} onClick={() => void logs.refetch()}>
          Refresh
        </Button>
      }
    >
      <ErrorNote error={logs.error} />
      <LogViewer buffer={buffer} filename={`${s.name}.log`} status={logs.isPending ? "loading" : `${logs.data?.lines.length ?? 0} lines`} />
    </Card>
  );
}

// ---- disks ---------------------------------------------------------------------------------------

type Disk = { device: string; volume_name: string; mount_path: string; size_gb: number | null };

const DISKS: TableSpec<Disk> = {
  columns: [
    { header: "Device", className: "font-medium", cell: (d) => d.device },
    { header: "Mounted at", className: "font-mono text-xs", cell: (d) => d.mount_path },
    { header: "Size", cell: (d) => (d.size_gb ? `${d.size_gb} GB` : "—") },
    { header: "Volume", hideBelow: "md", className: "font-mono text-xs break-all", cell: (d) => d.volume_name },
  ],
  rowKey: (d) => d.device,
  empty: "No disk.",
  rowProps: (d) => ({ "data-testid": "disk-row", "data-device": d.device }),
};

function Disks({ server: s, onTask }: { server: Server; onTask: (t: StartedTask) => void }) {
  const can = usePermission();
  const qc = useQueryClient();
  const config = useQuery({
    queryKey: serverKeys.config(s.id),
    queryFn: () => ok(api.GET("/api/v1/servers/{ref}/config", { params: { path: { ref: s.id } } })),
  });
  const remove = useRowAction({
    run: (d: Disk) =>
      ok(api.DELETE("/api/v1/servers/{ref}/disks/{device}", { params: { path: { ref: s.id, device: d.device }, query: {} } })),
    confirm: (d) => `Remove ${d.device} (${d.mount_path})? The server is recreated without it and the volume is deleted.`,
    done: (d) => `Removing ${d.device}`,
    id: (d) => d.device,
    onDone: (d, r) => onTask({ id: r.task_id, label: `Remove ${d.device}` }),
    invalidates: [serverKeys.config(s.id)],
  });
  const [mount, setMount] = useState("");
  const [size, setSize] = useState("");
  const manage = can("manage_servers");
  return (
    <div className="grid gap-4">
      <Card title="Disks">
        <DataTable
          spec={DISKS}
          state={config}
          rows={config.data?.disks}
          actions={manage ? (d) => <RemoveButton busy={remove.busy(d)} onClick={() => remove.run(d)} /> : undefined}
        />
      </Card>
      {manage ? (
        <Card title="Add a disk">
          <ApiForm
            submit={() =>
              ok(
                api.POST("/api/v1/servers/{ref}/disks", {
                  params: { path: { ref: s.id } },
                  body: { ...(mount.trim() ? { mount_path: mount.trim() } : {}), ...(size.trim() ? { size_gb: Number(size) } : {}) },
                }),
              )
            }
            confirm={() => `Add a disk to ${s.name}? The server is recreated with it (a short outage); its data is kept.`}
            done={(r) => `Adding ${r.device} at ${r.mount_path}`}
            onDone={(r) => {
              onTask({ id: r.task_id, label: `Add ${r.device}` });
              void qc.invalidateQueries({ queryKey: serverKeys.config(s.id) });
            }}
            action="Add disk"
          >
            <div className="grid gap-3 sm:grid-cols-2">
              <Field label="Mount path" hint="Empty: /mnt/<device>">
                <Input name="mount_path" value={mount} onChange={(e) => setMount(e.target.value)} placeholder="/mnt/disk1" />
              </Field>
              <Field label="Size (GB)">
                <Input name="size_gb" type="number" min="1" step="1" value={size} onChange={(e) => setSize(e.target.value)} />
              </Field>
            </div>
          </ApiForm>
        </Card>
      ) : null}
    </div>
  );
}

// ---- firewall ------------------------------------------------------------------------------------

function Firewall({ server: s }: { server: Server }) {
  const can = usePermission();
  const groups = useFirewallGroups();
  const fw = useQuery({
    queryKey: serverKeys.firewall(s.id),
    queryFn: () => ok(api.GET("/api/v1/servers/{server}/firewall-groups", { params: { path: { server: s.id } } })),
  });
  const [pick, setPick] = useState("");
  // A refusal stays on the page: it is usually the host's own reason (no root or NET_ADMIN, offline).
  const [refusal, setRefusal] = useState<unknown>(null);
  const change = useRowAction({
    run: async ({ mode, group }: { mode: "add" | "remove"; group: string }) => {
      setRefusal(null);
      const params = { path: { server: s.id } };
      try {
        return mode === "add"
          ? await ok(api.POST("/api/v1/servers/{server}/firewall-groups", { params, body: { groups: [group] } }))
          : await ok(api.DELETE("/api/v1/servers/{server}/firewall-groups", { params, body: { groups: [group] } }));
      } catch (e) {
        setRefusal(e);
        throw e;
      }
    },
    confirm: ({ mode, group }) => (mode === "remove" ? `Take ${group} away from ${s.name}?` : undefined),
    done: ({ mode, group }) => (mode === "add" ? `${group} applied` : `${group} removed`),
    id: ({ group }) => group,
    onDone: () => setPick(""),
    invalidates: [serverKeys.firewall(s.id), serverKeys.groups],
  });
  const manage = can("manage_firewall");
  const f = fw.data;
  const applied = new Set(f?.groups.map((g) => g.id));
  const available = groups.data?.firewall_groups.filter((g) => !applied.has(g.id)) ?? [];
  return (
    <div className="grid gap-4">
      <Card title="Firewall groups applied">
        <ErrorNote error={fw.error} />
        <div data-testid="firewall-refusal">
          <ErrorNote error={refusal} />
        </div>
        {f ? (
          <>
            <p className="mb-2 text-sm text-zinc-500">
              Chain <span className="font-mono">{f.chain}</span> · {f.rules} rule{f.rules === 1 ? "" : "s"} · inbound default{" "}
              {f.default_inbound} · outbound default {f.default_outbound}
            </p>
            {f.state ? (
              <p className="mb-2 flex flex-wrap items-center gap-2 text-sm" data-testid="firewall-state">
                On its host: <StateBadge state={f.state.status} /> {f.state.addresses.join(", ")} · {ago(f.state.updated_at)}
              </p>
            ) : null}
            {f.state?.status === "failed" ? (
              <PushReport
                pushed={[
                  { server_id: s.id, server_name: s.name, status: "failed", chain: f.chain, addresses: [], rules: 0, error: f.state.error },
                ]}
              />
            ) : null}
            {f.groups.length ? (
              <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800" aria-label="Applied groups">
                {f.groups.map((g) => (
                  <li key={g.id} className="flex items-center justify-between py-1.5" data-testid="applied-group" data-name={g.name}>
                    <Link to="/servers" search={{ tab: "firewall" }} className={ROW_LINK}>
                      {g.name}
                    </Link>
                    {manage ? (
                      <RemoveButton
                        busy={change.busy({ mode: "remove", group: g.name })}
                        onClick={() => change.run({ mode: "remove", group: g.name })}
                      />
                    ) : null}
                  </li>
                ))}
              </ul>
            ) : (
              <p className="text-sm text-zinc-500">No group: Docker's own rules apply.</p>
            )}
          </>
        ) : fw.isPending ? (
          <p role="status" className="text-sm text-zinc-500">
            Loading…
          </p>
        ) : null}
      </Card>
      {manage ? (
        <Card title="Apply a group">
          <form
            className="flex flex-wrap items-end gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              if (pick) change.run({ mode: "add", group: pick });
            }}
          >
            <Field label="Group">
              <Select name="group" value={pick} onChange={(e) => setPick(e.target.value)} className="min-w-48">
                <option value="">Choose…</option>
                {available.map((g) => (
                  <option key={g.id} value={g.name}>
                    {g.name}
                  </option>
                ))}
              </Select>
            </Field>
            <Button type="submit" disabled={!pick} busy={change.pending}>
              Apply
            </Button>
          </form>
          <p className="mt-2 text-xs text-zinc-500">
            The host writes the ruleset at once; when it cannot (its agent is not root or lacks NET_ADMIN, or it is offline) nothing is
            applied and its reason is shown.
          </p>
        </Card>
      ) : null}
    </div>
  );
}
