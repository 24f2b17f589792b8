// The organization: users and roles, API keys (shown once), the audit log.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { useCan, useMe, type Role } from "../api/session.ts";
import { Command } from "../components/attach-host.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Badge, Card, Empty, ErrorNote } from "../components/ui/card.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";

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
  const users = useQuery({
    queryKey: settingsKeys.users,
    queryFn: () => ok(api.GET("/api/v1/users", { params: { query: { limit: 200 } } })),
  });
  const invalidate = () => void qc.invalidateQueries({ queryKey: settingsKeys.users });
  const add = useMutation({
    mutationFn: (body: Schemas["NewUserRequest"]) => ok(api.POST("/api/v1/users", { body })),
    onSuccess: (u) => {
      toast.ok(`Added ${u.username}`);
      invalidate();
    },
  });
  const setRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) =>
      ok(api.PATCH("/api/v1/users/{id}", { params: { path: { id } }, body: { role } })),
    onSuccess: () => {
      toast.ok("Role changed");
      invalidate();
    },
    onError: (err) => toast.error(err),
  });
  const remove = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/api/v1/users/{id}", { params: { path: { id } } })),
    onSuccess: () => {
      toast.ok("User removed");
      invalidate();
    },
    onError: (err) => toast.error(err),
  });
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
        <ErrorNote error={users.error} />
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-zinc-500 uppercase">
              <tr>
                <th className="py-2 pr-3">User</th>
                <th className="py-2 pr-3">Role</th>
                <th className="hidden py-2 pr-3 sm:table-cell">Since</th>
                {can.admin ? <th className="py-2" /> : null}
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
              {users.data?.users.map((u) => (
                <tr key={u.id}>
                  <td className="py-2 pr-3">
                    <span className="font-medium">{u.username}</span> <span className="text-zinc-500">{u.email}</span>
                  </td>
                  <td className="py-2 pr-3">
                    {can.admin && u.id !== me?.id ? (
                      <Select
                        aria-label={`Role of ${u.username}`}
                        value={u.role}
                        onChange={(e) => setRole.mutate({ id: u.id, role: e.target.value as Role })}
                        className="w-32"
                      >
                        {ROLES.map((r) => (
                          <option key={r}>{r}</option>
                        ))}
                      </Select>
                    ) : (
                      <Badge>{u.role}</Badge>
                    )}
                  </td>
                  <td className="hidden py-2 pr-3 sm:table-cell">{ago(u.created_at)}</td>
                  {can.admin ? (
                    <td className="py-2 text-right">
                      {u.id !== me?.id ? (
                        <Button size="sm" variant="danger" onClick={() => window.confirm(`Remove ${u.username}?`) && remove.mutate(u.id)}>
                          Remove
                        </Button>
                      ) : null}
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
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

function ApiKeys() {
  const qc = useQueryClient();
  const toast = useToast();
  const [created, setCreated] = useState<Schemas["NewApiKey"] | null>(null);
  const keys = useQuery({
    queryKey: settingsKeys.apiKeys,
    queryFn: () => ok(api.GET("/api/v1/api-keys", { params: { query: { limit: 200 } } })),
  });
  const create = useMutation({
    mutationFn: (body: Schemas["NewApiKeyRequest"]) => ok(api.POST("/api/v1/api-keys", { body })),
    onSuccess: (k) => {
      setCreated(k);
      void qc.invalidateQueries({ queryKey: settingsKeys.apiKeys });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/api/v1/api-keys/{id}", { params: { path: { id } } })),
    onSuccess: () => {
      toast.ok("Key revoked");
      void qc.invalidateQueries({ queryKey: settingsKeys.apiKeys });
    },
    onError: (err) => toast.error(err),
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
        <ErrorNote error={keys.error} />
        {keys.data?.api_keys.length === 0 ? <Empty>No API key.</Empty> : null}
        <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
          {keys.data?.api_keys.map((k) => (
            <li key={k.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <span>
                <span className="font-medium">{k.name}</span> <span className="font-mono text-zinc-500">{k.prefix}…</span>{" "}
                <Badge>{k.role}</Badge> {k.revoked_at ? <Badge tone="red">revoked</Badge> : null}
              </span>
              <span className="flex items-center gap-2 text-zinc-500">
                used {ago(k.last_used_at)}
                {k.revoked_at ? null : (
                  <Button size="sm" variant="danger" onClick={() => revoke.mutate(k.id)}>
                    Revoke
                  </Button>
                )}
              </span>
            </li>
          ))}
        </ul>
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
