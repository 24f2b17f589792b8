// The organization: users and roles, API keys (shown once), the audit log.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { type Role, type User, useCan, useMe } from "../api/session.ts";
import { Command } from "../components/attach-host.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Badge, Card, Empty, ErrorNote } from "../components/ui/card.tsx";
import { DataTable, RemoveButton, type TableSpec } from "../components/ui/data-table.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";
import { useList, useRowAction } from "../lib/use-list.ts";

const TABS = [
  { id: "users", label: "Users" },
  { id: "api-keys", label: "API keys" },
  { id: "audit", label: "Audit log" },
] as const;
type Tab = (typeof TABS)[number]["id"];
const ROLES: Role[] = ["viewer", "member", "admin", "owner"];

const settingsKeys = {
  users: ["settings", "users"] as const,
  apiKeys: ["settings", "api-keys"] as const,
  audit: ["settings", "audit"] as const,
};

export function SettingsPage() {
  const { tab = "users" } = useSearch({ from: "/app/settings" });
  const navigate = useNavigate();
  const current = (TABS.some((t) => t.id === tab) ? tab : "users") as Tab;
  return (
    <>
      <PageTitle>Organization</PageTitle>
      <Tabs tabs={TABS} value={current} onChange={(id) => navigate({ to: ".", search: { tab: id }, replace: true })} />
      {current === "users" ? <Users /> : null}
      {current === "api-keys" ? <ApiKeys /> : null}
      {current === "audit" ? <Audit /> : null}
    </>
  );
}

function Users() {
  const can = useCan();
  const me = useMe();
  const qc = useQueryClient();
  const toast = useToast();
  const { list: users, remove } = useList(
    {
      queryKey: settingsKeys.users,
      queryFn: () => ok(api.GET("/api/v1/users", { params: { query: { limit: 200 } } })),
    },
    {
      run: (u: User) => ok(api.DELETE("/api/v1/users/{id}", { params: { path: { id: u.id } } })),
      confirm: (u) => `Remove ${u.username}?`,
      done: () => "User removed",
      id: (u) => u.id,
    },
  );
  const invalidate = () => void qc.invalidateQueries({ queryKey: settingsKeys.users });
  const add = useMutation({
    mutationFn: (body: Schemas["NewUserRequest"]) => ok(api.POST("/api/v1/users", { body })),
    onSuccess: (u) => {
      toast.ok(`Added ${u.username}`);
      invalidate();
    },
  });
  const setRole = useRowAction({
    run: ({ id, role }: { id: string; role: Role }) => ok(api.PATCH("/api/v1/users/{id}", { params: { path: { id } }, body: { role } })),
    done: () => "Role changed",
    invalidates: [settingsKeys.users],
  });
  const table: TableSpec<User> = {
    columns: [
      {
        header: "User",
        cell: (u) => (
          <>
            <span className="font-medium">{u.username}</span> <span className="text-zinc-500">{u.email}</span>
          </>
        ),
      },
      {
        header: "Role",
        cell: (u) =>
          can.admin && u.id !== me?.id ? (
            <Select
              aria-label={`Role of ${u.username}`}
              value={u.role}
              onChange={(e) => setRole.run({ id: u.id, role: e.target.value as Role })}
              className="w-32"
            >
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </Select>
          ) : (
            <Badge>{u.role}</Badge>
          ),
      },
      { header: "Since", hideBelow: "sm", cell: (u) => ago(u.created_at) },
    ],
    rowProps: (u) => ({ "data-testid": "user-row", "data-name": u.username }),
  };
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    add.mutate({
      username: String(f.get("username")),
      email: String(f.get("email")),
      password: String(f.get("password")),
      role: String(f.get("role")) as Role,
    });
  };
  return (
    <div className="grid gap-4">
      <Card>
        <DataTable
          spec={table}
          state={users}
          rows={users.data?.users}
          actions={
            can.admin ? (u) => (u.id === me?.id ? null : <RemoveButton busy={remove.busy(u)} onClick={() => remove.run(u)} />) : undefined
          }
        />
      </Card>
      {can.admin ? (
        <Card title="Add a user">
          <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2">
            <Field label="Username">
              <Input name="username" required />
            </Field>
            <Field label="Email">
              <Input name="email" type="email" required />
            </Field>
            <Field label="Password">
              <Input name="password" type="password" required minLength={6} autoComplete="new-password" />
            </Field>
            <Field label="Role">
              <Select name="role" defaultValue="member">
                {ROLES.filter((r) => r !== "owner").map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </Select>
            </Field>
            <div className="sm:col-span-2">
              <ErrorNote error={add.error} />
              <Button type="submit" busy={add.isPending} className="mt-2">
                Add user
              </Button>
            </div>
          </form>
        </Card>
      ) : null}
    </div>
  );
}

type ApiKey = Schemas["ApiKey"];

const API_KEYS: TableSpec<ApiKey> = {
  columns: [
    {
      header: "Key",
      cell: (k) => (
        <>
          <span className="font-medium">{k.name}</span> <span className="font-mono text-zinc-500">{k.prefix}…</span>{" "}
          {k.revoked_at ? <Badge tone="red">revoked</Badge> : null}
        </>
      ),
    },
    { header: "Role", cell: (k) => <Badge>{k.role}</Badge> },
    { header: "Last used", hideBelow: "sm", cell: (k) => ago(k.last_used_at) },
  ],
  empty: "No API key.",
  rowProps: (k) => ({ "data-testid": "api-key-row", "data-name": k.name }),
};

function ApiKeys() {
  const qc = useQueryClient();
  const [created, setCreated] = useState<Schemas["NewApiKey"] | null>(null);
  const { list: keys, remove: revoke } = useList(
    {
      queryKey: settingsKeys.apiKeys,
      queryFn: () => ok(api.GET("/api/v1/api-keys", { params: { query: { limit: 200 } } })),
    },
    {
      run: (k: ApiKey) => ok(api.DELETE("/api/v1/api-keys/{id}", { params: { path: { id: k.id } } })),
      confirm: (k) => `Revoke the key ${k.name}? Whatever uses it stops working.`,
      done: (k) => `Key ${k.name} revoked`,
      id: (k) => k.id,
    },
  );
  const create = useMutation({
    mutationFn: (body: Schemas["NewApiKeyRequest"]) => ok(api.POST("/api/v1/api-keys", { body })),
    onSuccess: (k) => {
      setCreated(k);
      void qc.invalidateQueries({ queryKey: settingsKeys.apiKeys });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    create.mutate({ name: String(new FormData(e.currentTarget).get("name")) });
  };
  return (
    <div className="grid gap-4">
      <Card title="New key">
        <form onSubmit={submit} className="flex flex-wrap items-end gap-2">
          <Field label="Name">
            <Input name="name" required maxLength={64} placeholder="ci" />
          </Field>
          <Button type="submit" busy={create.isPending}>
            Create key
          </Button>
        </form>
        <ErrorNote error={create.error} />
        {created ? (
          <div className="mt-3">
            <Command label={`${created.name}: shown this once — store it now`} text={created.key} />
          </div>
        ) : null}
      </Card>
      <Card>
        <DataTable
          spec={API_KEYS}
          state={keys}
          rows={keys.data?.api_keys}
          actions={(k) => (k.revoked_at ? null : <RemoveButton label="Revoke" busy={revoke.busy(k)} onClick={() => revoke.run(k)} />)}
        />
      </Card>
    </div>
  );
}

function Audit() {
  const audit = useQuery({
    queryKey: settingsKeys.audit,
    queryFn: () => ok(api.GET("/api/v1/audit-events", { params: { query: { limit: 100 } } })),
  });
  return (
    <Card>
      <ErrorNote error={audit.error} />
      {audit.data?.audit_events.length === 0 ? <Empty>Nothing yet.</Empty> : null}
      <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
        {audit.data?.audit_events.map((e) => (
          <li key={e.id} className="flex flex-wrap justify-between gap-2 py-2">
            <span>
              <span className="font-medium">{e.action}</span>{" "}
              <span className="text-zinc-500">
                {e.target_type ? `${e.target_type} ${e.target_id ?? ""}` : ""} by {e.actor_type} {e.actor_id ?? ""}
              </span>
            </span>
            <span className="text-zinc-500">
              {e.ip ?? ""} · {ago(e.created_at)}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
