// Access: who may do what (seed 004's permissions as grants on top of the four roles, and which
// projects a member is limited to), and the organization's vault of secrets.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useMe, useMyAccess } from "../api/session.ts";
import { Command } from "../components/attach-host.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Badge, Card, Empty, ErrorNote } from "../components/ui/card.tsx";
import { DataTable, RemoveButton, type TableSpec } from "../components/ui/data-table.tsx";
import { Field, Input } from "../components/ui/input.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";
import { useList, useRowAction } from "../lib/use-list.ts";

const TABS = [
  { id: "members", label: "Members" },
  { id: "vault", label: "Vault" },
] as const;
type Tab = (typeof TABS)[number]["id"];

type Permission = Schemas["IamOverview"]["permissions"][number]["name"];
type MemberAccess = Schemas["IamOverview"]["members"][number];

const PERMISSION_HINTS: Record<Permission, string> = {
  create_server: "create servers",
  manage_servers: "start, stop, reconfigure and delete servers",
  assign_roles: "assign server roles",
  manage_firewall: "firewall groups and their rules",
  manage_backups: "run (and, with admin access, restore) backups",
  admin_access: "organization settings, vault, system logs",
};

export function AccessPage() {
  const { tab = "members" } = useSearch({ from: "/app/access" });
  const navigate = useNavigate();
  const current = (TABS.some((t) => t.id === tab) ? tab : "members") as Tab;
  return (
    <>
      <PageTitle>Access</PageTitle>
      <Tabs tabs={TABS} value={current} onChange={(id) => navigate({ to: ".", search: { tab: id }, replace: true })} />
      {current === "members" ? <Members /> : <Vault />}
    </>
  );
}

// ---- members: permissions and project scope ---------------------------------------------------------

function Members() {
  const mine = useMyAccess();
  const me = useMe();
  const iam = useQuery({ queryKey: keys.access.iam, queryFn: () => ok(api.GET("/api/v1/iam")) });
  const projects = useQuery({
    queryKey: keys.projects.list(),
    queryFn: () => ok(api.GET("/api/v1/projects", { params: { query: { limit: 200 } } })),
  });
  const canManage = mine?.permissions.includes("admin_access") && (me?.role === "owner" || me?.role === "admin");
  const table: TableSpec<MemberAccess> = {
    columns: [
      {
        header: "Member",
        cell: (m) => (
          <>
            <span className="font-medium">{m.username}</span> <Badge>{m.role}</Badge>
          </>
        ),
      },
      {
        header: "Permissions",
        cell: (m) => (
          <span className="flex flex-wrap gap-1">
            {m.permissions.length ? m.permissions.map((p) => <Badge key={p}>{p}</Badge>) : <span className="text-zinc-500">none</span>}
          </span>
        ),
      },
      {
        header: "Projects",
        hideBelow: "sm",
        cell: (m) =>
          m.project_ids === null
            ? "all projects"
            : m.project_ids.length === 0
              ? "none"
              : m.project_ids.map((id) => projects.data?.projects.find((p) => p.id === id)?.name ?? id).join(", "),
      },
    ],
    rowKey: (m) => m.user_id,
    empty: "No member.",
    rowProps: (m) => ({ "data-testid": "access-row", "data-name": m.username }),
  };
  const [editing, setEditing] = useState<string | null>(null);
  const member = iam.data?.members.find((m) => m.user_id === editing);
  return (
    <div className="grid gap-4">
      {mine ? (
        <Card title="Your access">
          <p className="text-sm" data-testid="my-access">
            <Badge>{mine.role}</Badge> {mine.permissions.length ? mine.permissions.join(", ") : "no permission beyond reading"} ·{" "}
            {mine.project_ids === null
              ? "all projects"
              : `projects: ${mine.project_ids.map((id) => projects.data?.projects.find((p) => p.id === id)?.name ?? id).join(", ") || "none"}`}
          </p>
        </Card>
      ) : null}
      <Card>
        <DataTable
          spec={table}
          state={iam}
          rows={iam.data?.members}
          actions={
            canManage
              ? (m) =>
                  m.role === "owner" || m.user_id === me?.id ? null : (
                    <Button size="sm" variant="ghost" onClick={() => setEditing(m.user_id)} aria-label={`Edit access of ${m.username}`}>
                      Edit
                    </Button>
                  )
              : undefined
          }
        />
      </Card>
      {member && canManage ? (
        <EditAccess
          key={member.user_id}
          member={member}
          catalog={iam.data?.permissions ?? []}
          projects={projects.data?.projects ?? []}
          onClose={() => setEditing(null)}
        />
      ) : null}
    </div>
  );
}

function EditAccess({
  member,
  catalog,
  projects,
  onClose,
}: {
  member: MemberAccess;
  catalog: Schemas["IamOverview"]["permissions"];
  projects: Schemas["Project"][];
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const toast = useToast();
  const [granted, setGranted] = useState<Set<Permission>>(new Set(member.permissions));
  const [scoped, setScoped] = useState(member.project_ids !== null);
  const [chosen, setChosen] = useState<Set<string>>(new Set(member.project_ids ?? []));
  const elevated = member.role === "admin" || member.role === "owner";
  const save = useMutation({
    mutationFn: async () => {
      const path = { params: { path: { id: member.user_id } } };
      await ok(api.PUT("/api/v1/users/{id}/permissions", { ...path, body: { permissions: [...granted] } }));
      if (!elevated) await ok(api.PUT("/api/v1/users/{id}/projects", { ...path, body: { project_ids: scoped ? [...chosen] : null } }));
    },
    onSuccess: () => {
      toast.ok(`Access of ${member.username} saved`);
      void qc.invalidateQueries({ queryKey: keys.access.all });
      onClose();
    },
  });
  const toggle = <T,>(set: Set<T>, value: T, on: boolean) => {
    const next = new Set(set);
    if (on) next.add(value);
    else next.delete(value);
    return next;
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Card title={`Access of ${member.username} (${member.role})`}>
      <form onSubmit={submit} className="grid gap-4" data-testid="access-form">
        <fieldset className="grid gap-2">
          <legend className="mb-1 text-sm font-medium">Permissions</legend>
          {catalog.map(({ name, roles }) => (
            <label key={name} className="flex flex-wrap items-center gap-2 text-sm">
              <input
                type="checkbox"
                name={name}
                checked={granted.has(name)}
                disabled={elevated && name === "admin_access"}
                onChange={(e) => setGranted((g) => toggle(g, name, e.target.checked))}
              />
              <span className="font-mono">{name}</span>
              <span className="text-zinc-500">
                {PERMISSION_HINTS[name]}
                {roles.includes(member.role) ? ` · default for ${member.role}` : ""}
              </span>
            </label>
          ))}
        </fieldset>
        {elevated ? (
          <p className="text-sm text-zinc-500">Owners and admins see every project.</p>
        ) : (
          <fieldset className="grid gap-2">
            <legend className="mb-1 text-sm font-medium">Projects</legend>
            <label className="flex items-center gap-2 text-sm">
              <input type="radio" name="scope" value="all" checked={!scoped} onChange={() => setScoped(false)} />
              All projects
            </label>
            <label className="flex items-center gap-2 text-sm">
              <input type="radio" name="scope" value="chosen" checked={scoped} onChange={() => setScoped(true)} />
              Only the projects chosen here (the rest look missing to them everywhere)
            </label>
            {scoped ? (
              <div className="grid gap-1 pl-6">
                {projects.length === 0 ? <Empty>No project yet.</Empty> : null}
                {projects.map((p) => (
                  <label key={p.id} className="flex items-center gap-2 text-sm">
                    <input
                      type="checkbox"
                      name={`project-${p.name}`}
                      checked={chosen.has(p.id)}
                      onChange={(e) => setChosen((c) => toggle(c, p.id, e.target.checked))}
                    />
                    {p.name}
                  </label>
                ))}
              </div>
            ) : null}
          </fieldset>
        )}
        <ErrorNote error={save.error} />
        <div className="flex flex-wrap gap-2">
          <Button type="submit" busy={save.isPending}>
            Save access
          </Button>
          <Button type="button" variant="ghost" onClick={onClose}>
            Cancel
          </Button>
        </div>
      </form>
    </Card>
  );
}

// ---- vault -----------------------------------------------------------------------------------------

type Secret = Schemas["VaultSecret"];

const SECRETS: TableSpec<Secret> = {
  columns: [
    { header: "Key", cell: (s) => <span className="font-mono font-medium">{s.key}</span> },
    { header: "Version", cell: (s) => `v${s.version}` },
    { header: "Reference", hideBelow: "md", cell: (s) => <code className="text-xs">{s.reference}</code> },
    { header: "Updated", hideBelow: "sm", cell: (s) => ago(s.updated_at) },
  ],
  rowKey: (s) => s.id,
  empty: "No secret yet.",
  rowProps: (s) => ({ "data-testid": "secret-row", "data-name": s.key }),
};

const encodeKey = (key: string) => ({ params: { path: { key } } });

function Vault() {
  const mine = useMyAccess();
  const admin = mine?.permissions.includes("admin_access") ?? false;
  const qc = useQueryClient();
  const toast = useToast();
  const [revealed, setRevealed] = useState<{ key: string; version: number; text: string } | null>(null);
  const { list: secrets, remove } = useList(
    { queryKey: keys.access.vault, queryFn: () => ok(api.GET("/api/v1/vault/secrets")) },
    {
      run: (s: Secret) => ok(api.DELETE("/api/v1/vault/secrets/{key}", encodeKey(s.key))),
      confirm: (s) => `Delete ${s.key} and all its versions? Deployments that reference it fail until it is stored again.`,
      done: (s) => `${s.key} deleted`,
      id: (s) => s.id,
      onDone: (s) => setRevealed((r) => (r?.key === s.key ? null : r)),
    },
  );
  const reveal = useRowAction({
    run: (s: Secret) => ok(api.GET("/api/v1/vault/secrets/{key}/value", encodeKey(s.key))),
    done: (s) => `Read ${s.key} (the read is in the audit log)`,
    id: (s) => s.id,
    onDone: (s, read) =>
      setRevealed({
        key: s.key,
        version: read.version,
        text: typeof read.value === "string" ? read.value : JSON.stringify(read.value, null, 2),
      }),
  });
  const store = useMutation({
    mutationFn: ({ key, value }: { key: string; value: string }) =>
      ok(api.PUT("/api/v1/vault/secrets/{key}", { ...encodeKey(key), body: { value } })),
    onSuccess: (s) => {
      toast.ok(`Stored ${s.key} as version ${s.version}`);
      void qc.invalidateQueries({ queryKey: keys.access.vault });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const f = new FormData(form);
    store.mutate({ key: String(f.get("key")).trim(), value: String(f.get("value")) }, { onSuccess: () => form.reset() });
  };
  return (
    <div className="grid gap-4">
      <Card>
        <DataTable
          spec={SECRETS}
          state={secrets}
          rows={secrets.data?.secrets}
          actions={
            admin
              ? (s) => (
                  <span className="flex gap-1">
                    <Button size="sm" variant="ghost" busy={reveal.busy(s)} onClick={() => reveal.run(s)} aria-label={`Reveal ${s.key}`}>
                      Reveal
                    </Button>
                    <RemoveButton label="Delete" busy={remove.busy(s)} onClick={() => remove.run(s)} />
                  </span>
                )
              : undefined
          }
        />
        {revealed ? (
          <div className="mt-3" data-testid="revealed-secret">
            <Command label={`${revealed.key} (version ${revealed.version})`} text={revealed.text} />
            <Button size="sm" variant="ghost" className="mt-2" onClick={() => setRevealed(null)}>
              Hide
            </Button>
          </div>
        ) : null}
      </Card>
      {admin ? (
        <Card title="Store a secret">
          <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2">
            <Field label="Key" hint="Letters, digits, _ . - and /; storing an existing key adds a version.">
              <Input name="key" required maxLength={200} placeholder="DB_PASSWORD" autoComplete="off" />
            </Field>
            <Field label="Value">
              <Input name="value" type="password" required autoComplete="new-password" />
            </Field>
            <div className="sm:col-span-2">
              <ErrorNote error={store.error} />
              <Button type="submit" busy={store.isPending} className="mt-2">
                Store secret
              </Button>
            </div>
          </form>
        </Card>
      ) : null}
      <Card title="Using a secret">
        <p className="text-sm">
          In an application's environment, set a variable to <code>{"${vault:KEY}"}</code> (or <code>{"${vault:KEY#field}"}</code> for a
          value with fields). Pier resolves it when it deploys, so the value is never stored with the application; a missing key fails the
          deployment with its name.
        </p>
      </Card>
    </div>
  );
}
