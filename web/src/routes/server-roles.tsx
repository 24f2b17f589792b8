// The servers' roles catalog: built-in web, was and db and the organization's own templates. Admins
// add, change and delete their own (a built-in role can be changed, not deleted; a role servers
// have cannot be deleted); anyone can ask whether a role is valid. A changed role reaches its
// servers when it is assigned again (a recreate), which the edit dialog says. A role's health check
// (a command, or an HTTP path probed inside the container) becomes its servers' Docker HEALTHCHECK.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiProblem, api, fieldError, ok, type Schemas } from "../api/client.ts";
import { type ServerRole, serverKeys, useFirewallGroups, usePermission, useServerRoles } from "../api/servers.ts";
import { ApiForm } from "../components/api-form.tsx";
import { Button } from "../components/ui/button.tsx";
import { Badge, Card } from "../components/ui/card.tsx";
import { DataTable, RemoveButton, type TableSpec } from "../components/ui/data-table.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { CodeArea, EnvLinesField, Field, Input } from "../components/ui/input.tsx";
import { parseEnvLines, rowsToEnv } from "../lib/env-edit.ts";
import { parsePorts, portsText } from "../lib/ports.ts";
import { useRowAction } from "../lib/use-list.ts";

const portText = (r: ServerRole) => portsText(r.ports) || "—";

const ROLES: TableSpec<ServerRole> = {
  columns: [
    {
      header: "Role",
      className: "font-medium",
      cell: (r) => (
        <>
          {r.name} {r.builtin ? <Badge tone="blue">built-in</Badge> : null}
          {r.description ? <span className="block text-xs font-normal text-zinc-500">{r.description}</span> : null}
        </>
      ),
    },
    { header: "Image", className: "break-all font-mono text-xs", cell: (r) => r.image },
    { header: "Ports", hideBelow: "md", cell: portText },
    { header: "Data path", hideBelow: "md", className: "font-mono text-xs", cell: (r) => r.data_path },
    { header: "Health check", hideBelow: "lg", className: "break-all font-mono text-xs", cell: (r) => healthText(r.health_check) },
    { header: "Firewall groups", hideBelow: "lg", cell: (r) => r.firewall_groups.join(", ") || "—" },
    { header: "Servers", hideBelow: "sm", className: "tabular-nums", cell: (r) => r.servers ?? 0 },
  ],
  rowKey: (r) => r.name,
  empty: "No role.",
  rowProps: (r) => ({ "data-testid": "role-row", "data-name": r.name }),
};

export function ServerRolesTab() {
  const can = usePermission();
  const qc = useQueryClient();
  const roles = useServerRoles();
  const [editing, setEditing] = useState<ServerRole | "new" | null>(null);
  const remove = useRowAction({
    run: (r: ServerRole) => ok(api.DELETE("/api/v1/server-roles/{name}", { params: { path: { name: r.name } } })),
    confirm: (r) => `Delete the role ${r.name}?`,
    done: (r) => `Role ${r.name} deleted`,
    id: (r) => r.name,
    invalidates: [serverKeys.roles],
  });
  const validate = useRowAction({
    run: (r: ServerRole) => ok(api.GET("/api/v1/server-roles/{name}/validate", { params: { path: { name: r.name } } })),
    done: (r, v) => (v.valid ? `${r.name} is a valid role` : `${r.name} is not valid: ${v.reason ?? "unknown reason"}`),
    id: (r) => r.name,
  });
  const admin = can("admin_access");
  return (
    <Card title="Roles" actions={admin ? <Button onClick={() => setEditing("new")}>New role</Button> : null}>
      <Dialog
        open={editing !== null}
        onOpenChange={(o) => !o && setEditing(null)}
        title={editing === "new" || editing === null ? "New role" : `Edit ${editing.name}`}
        description={
          editing === "new" || editing === null
            ? "A template new servers are made from."
            : "Servers that have this role get the change when it is assigned to them again (they are recreated)."
        }
      >
        {editing !== null ? (
          <RoleForm
            role={editing === "new" ? null : editing}
            onDone={() => {
              setEditing(null);
              void qc.invalidateQueries({ queryKey: serverKeys.roles });
            }}
          />
        ) : null}
      </Dialog>
      <DataTable
        spec={ROLES}
        state={roles}
        rows={roles.data?.roles}
        actions={(r) => (
          <span className="inline-flex gap-1">
            <Button size="sm" variant="ghost" busy={validate.busy(r)} onClick={() => validate.run(r)}>
              Validate
            </Button>
            {admin ? (
              <Button size="sm" variant="secondary" onClick={() => setEditing(r)}>
                Edit
              </Button>
            ) : null}
            {admin && !r.builtin ? <RemoveButton label="Delete" busy={remove.busy(r)} onClick={() => remove.run(r)} /> : null}
          </span>
        )}
      />
    </Card>
  );
}

/** The health check's fields as the API names them (worker/services/server-fields.ts, ServerHealthCheckSchema). */
const HEALTH_NUMBERS = [
  ["port", "HTTP port", "Default 80"],
  ["interval_seconds", "Interval (s)", "1–300"],
  ["timeout_seconds", "Timeout (s)", "1–300"],
  ["retries", "Retries", "1–100"],
  ["start_period_seconds", "Start period (s)", "0–3600"],
] as const;
type HealthNumber = (typeof HEALTH_NUMBERS)[number][0];
type HealthForm = { command: string; http_path: string } & Record<HealthNumber, string>;

function healthText(hc: ServerRole["health_check"]): string {
  if (!hc) return "—";
  const what = typeof hc.command === "string" ? hc.command : typeof hc.http_path === "string" ? `GET :${hc.port ?? 80}${hc.http_path}` : "";
  return hc.interval_seconds ? `${what} every ${hc.interval_seconds}s` : what || "—";
}

function healthForm(hc: ServerRole["health_check"]): HealthForm {
  const text = (v: unknown) => (typeof v === "string" || typeof v === "number" ? String(v) : "");
  return {
    command: text(hc?.command),
    http_path: text(hc?.http_path),
    ...(Object.fromEntries(HEALTH_NUMBERS.map(([k]) => [k, text(hc?.[k])])) as Record<HealthNumber, string>),
  };
}

/** The form as the API's health_check: null when nothing is given (no health check). */
function healthBody(f: HealthForm): Schemas["ServerRolePatch"]["health_check"] {
  const out: Record<string, string | number> = {};
  if (f.command.trim()) out.command = f.command.trim();
  if (f.http_path.trim()) out.http_path = f.http_path.trim();
  for (const [k] of HEALTH_NUMBERS) if (f[k].trim()) out[k] = Number(f[k]);
  return Object.keys(out).length ? out : null;
}

/** The API's complaint about the health check as a whole (neither a command nor a path), not one of its fields. */
const wholeError = (err: unknown, field: string) =>
  err instanceof ApiProblem ? err.errors.find((e) => e.pointer === `/body/${field}`)?.detail : undefined;

function RoleForm({ role, onDone }: { role: ServerRole | null; onDone: () => void }) {
  const groups = useFirewallGroups();
  const [form, setForm] = useState({
    name: role?.name ?? "",
    description: role?.description ?? "",
    image: role?.image ?? "",
    command: role?.command?.join("\n") ?? "",
    ports: role ? portsText(role.ports) : "",
    data_path: role?.data_path ?? "",
    firewall_groups: role?.firewall_groups ?? [],
    env: "",
  });
  const [health, setHealth] = useState(() => healthForm(role?.health_check ?? null));
  const [error, setError] = useState<unknown>(null);
  const set = (p: Partial<typeof form>) => setForm((f) => ({ ...f, ...p }));
  const ports = parsePorts(form.ports);
  const env = parseEnvLines(form.env);
  const body = () => {
    if (!ports) throw new Error("Ports: container ports separated by commas, such as 80, 443 or 53/udp");
    if (env.rejected.length) throw new Error(`Environment: not KEY=value: ${env.rejected.join(", ")}`);
    const command = form.command.split("\n").filter((l) => l.length > 0);
    return {
      description: form.description.trim() || null,
      image: form.image.trim(),
      command: command.length ? command : null,
      ports,
      ...(form.data_path.trim() ? { data_path: form.data_path.trim() } : {}),
      firewall_groups: form.firewall_groups,
      health_check: healthBody(health),
      // Values are never read back: left empty on an edit, the role keeps its environment.
      ...(env.rows.length ? { env: rowsToEnv(env.rows) } : {}),
    };
  };
  const submit = async () => {
    try {
      return role
        ? await ok(api.PATCH("/api/v1/server-roles/{name}", { params: { path: { name: role.name } }, body: body() }))
        : await ok(api.POST("/api/v1/server-roles", { body: { name: form.name.trim(), ...body() } }));
    } catch (e) {
      setError(e);
      throw e;
    }
  };
  return (
    <ApiForm submit={submit} done={(r) => `Role ${r.name} saved`} onDone={onDone} action={role ? "Save role" : "Create role"}>
      {role ? null : (
        <Field label="Name" hint="Lower-case letters, digits, '_' and '-'" error={fieldError(error, "name")}>
          <Input name="name" required value={form.name} onChange={(e) => set({ name: e.target.value })} placeholder="cache" />
        </Field>
      )}
      <Field label="Description" error={fieldError(error, "description")}>
        <Input name="description" value={form.description} onChange={(e) => set({ description: e.target.value })} />
      </Field>
      <Field label="Image" error={fieldError(error, "image")}>
        <Input name="image" required value={form.image} onChange={(e) => set({ image: e.target.value })} placeholder="redis:7" />
      </Field>
      <Field label="Command" hint="One argument per line; empty for the image's own" error={fieldError(error, "command")}>
        <CodeArea name="command" value={form.command} onChange={(e) => set({ command: e.target.value })} />
      </Field>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field
          label="Ports"
          hint="Container ports: 80, 443 or 53/udp; 8080:80 also publishes 80 on the host's 8080"
          error={ports ? fieldError(error, "ports") : "Not a list of ports"}
        >
          <Input name="ports" value={form.ports} onChange={(e) => set({ ports: e.target.value })} />
        </Field>
        <Field label="Data path" hint="Where the data volume is mounted" error={fieldError(error, "data_path")}>
          <Input name="data_path" value={form.data_path} onChange={(e) => set({ data_path: e.target.value })} placeholder="/data" />
        </Field>
      </div>
      <fieldset className="grid gap-2 text-sm" data-testid="role-health-check">
        <legend className="mb-1 font-medium">Health check</legend>
        <p className="text-xs text-zinc-500">
          A command run in the container, or an HTTP path fetched from it; both empty: none. Servers get it when the role is assigned again.
        </p>
        {wholeError(error, "health_check") ? (
          <span role="alert" className="text-xs text-red-700 dark:text-red-400">
            {wholeError(error, "health_check")}
          </span>
        ) : null}
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="Check command" hint="Run with sh -c; exit 0 is healthy" error={fieldError(error, "health_check/command")}>
            <Input
              name="health_command"
              value={health.command}
              onChange={(e) => setHealth((h) => ({ ...h, command: e.target.value }))}
              placeholder="pg_isready -U postgres"
            />
          </Field>
          <Field label="Check HTTP path" hint="Instead of a command: /healthz" error={fieldError(error, "health_check/http_path")}>
            <Input
              name="health_http_path"
              value={health.http_path}
              onChange={(e) => setHealth((h) => ({ ...h, http_path: e.target.value }))}
              placeholder="/"
            />
          </Field>
        </div>
        <div className="grid grid-cols-2 gap-3 sm:grid-cols-5">
          {HEALTH_NUMBERS.map(([k, label, hint]) => (
            <Field key={k} label={label} hint={hint} error={fieldError(error, `health_check/${k}`)}>
              <Input
                name={`health_${k}`}
                type="number"
                step="1"
                value={health[k]}
                onChange={(e) => setHealth((h) => ({ ...h, [k]: e.target.value }))}
              />
            </Field>
          ))}
        </div>
      </fieldset>
      {groups.data?.firewall_groups.length ? (
        <fieldset className="grid gap-1 text-sm">
          <legend className="mb-1 font-medium">Default firewall groups</legend>
          {groups.data.firewall_groups.map((g) => (
            <label key={g.id} className="flex items-center gap-2">
              <input
                type="checkbox"
                checked={form.firewall_groups.includes(g.name)}
                onChange={(e) =>
                  set({
                    firewall_groups: e.target.checked
                      ? [...form.firewall_groups, g.name]
                      : form.firewall_groups.filter((n) => n !== g.name),
                  })
                }
              />
              {g.name}
            </label>
          ))}
        </fieldset>
      ) : null}
      <EnvLinesField
        hint={
          role?.env_keys.length
            ? `KEY=value lines; replaces ${role.env_keys.join(", ")}. Empty keeps them.`
            : "KEY=value lines, sealed at rest"
        }
        value={form.env}
        onChange={(text) => set({ env: text })}
        rejected={env.rejected}
        apiError={fieldError(error, "env")}
      />
    </ApiForm>
  );
}
