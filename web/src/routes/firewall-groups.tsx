// Firewall groups: named, ordered rule sets that servers' hosts write into iptables. Each group with
// its rules and the servers that have it; those who may manage the firewall add, change and delete
// groups and rules. Every change is pushed to the group's servers at once, and what a host could
// not do (an agent without root or NET_ADMIN, a host offline) is shown with the host's own words.
import { useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import { api, fieldError, ok, type Schemas } from "../api/client.ts";
import { type FirewallGroup, type FirewallRule, serverKeys, useFirewallGroups, usePermission } from "../api/servers.ts";
import { ApiForm } from "../components/api-form.tsx";
import { Button } from "../components/ui/button.tsx";
import { Badge, Card, Empty, ErrorNote } from "../components/ui/card.tsx";
import { DataTable, RemoveButton, ROW_LINK, type TableSpec } from "../components/ui/data-table.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { useRowAction } from "../lib/use-list.ts";

type Push = Schemas["FirewallPush"];

const RULES: TableSpec<FirewallRule> = {
  columns: [
    { header: "#", className: "tabular-nums text-zinc-500", cell: (r) => r.position },
    { header: "Direction", cell: (r) => (r.direction === "in" ? "inbound" : "outbound") },
    { header: "Protocol", cell: (r) => r.protocol },
    { header: "Port", className: "tabular-nums", cell: (r) => r.port ?? "any" },
    { header: "Peer", className: "font-mono text-xs", cell: (r) => (r.cidr === "0.0.0.0/0" ? "anywhere" : r.cidr) },
    { header: "Action", cell: (r) => <Badge tone={r.action === "allow" ? "green" : "red"}>{r.action}</Badge> },
    { header: "Description", hideBelow: "md", cell: (r) => r.description ?? "—" },
  ],
  empty: "No rule: the group's defaults decide.",
  rowProps: () => ({ "data-testid": "rule-row" }),
};

/** What the hosts did with a change: the failures, in the host's words (a missing privilege says so). */
export function PushReport({ pushed }: { pushed: readonly Push[] }) {
  const failed = pushed.filter((p) => p.status === "failed");
  if (!failed.length) return null;
  return (
    <div
      role="alert"
      data-testid="push-failed"
      className="mb-3 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-300"
    >
      <p className="font-medium">Saved, but not every host could apply it (it is pushed again when the agent reconnects):</p>
      <ul className="list-disc pl-5">
        {failed.map((p) => (
          <li key={p.server_id}>
            {p.server_name}: {p.error ?? "failed"}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function FirewallGroupsTab() {
  const can = usePermission();
  const groups = useFirewallGroups();
  const [creating, setCreating] = useState(false);
  const qc = useQueryClient();
  const manage = can("manage_firewall");
  const list = groups.data?.firewall_groups;
  return (
    <div className="grid gap-4">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm text-zinc-500">
          A new connection is matched against a server's groups' rules in order; the first match decides, otherwise the group's default.
        </p>
        {manage ? <Button onClick={() => setCreating(true)}>New group</Button> : null}
      </div>
      <Dialog open={creating} onOpenChange={setCreating} title="New firewall group">
        <GroupForm
          group={null}
          onDone={() => {
            setCreating(false);
            void qc.invalidateQueries({ queryKey: serverKeys.groups });
          }}
        />
      </Dialog>
      <ErrorNote error={groups.error} />
      {groups.isPending ? (
        <p role="status" className="py-6 text-center text-sm text-zinc-500">
          Loading…
        </p>
      ) : list?.length === 0 ? (
        <Empty>No firewall group yet.</Empty>
      ) : null}
      {list?.map((g) => (
        <GroupCard key={g.id} group={g} manage={manage} />
      ))}
    </div>
  );
}

function GroupCard({ group, manage }: { group: FirewallGroup; manage: boolean }) {
  const qc = useQueryClient();
  const [dialog, setDialog] = useState<"edit" | "rule" | FirewallRule | null>(null);
  const [pushed, setPushed] = useState<readonly Push[]>([]);
  const changed = (p: readonly Push[]) => {
    setPushed(p);
    void qc.invalidateQueries({ queryKey: serverKeys.groups });
    void qc.invalidateQueries({ queryKey: serverKeys.all });
  };
  const removeGroup = useRowAction({
    run: (g: FirewallGroup) => ok(api.DELETE("/api/v1/firewall-groups/{group}", { params: { path: { group: g.id } } })),
    confirm: (g) => `Delete the group ${g.name}?${g.servers.length ? ` ${g.servers.length} server(s) lose its rules at once.` : ""}`,
    done: (g) => `Group ${g.name} deleted`,
    id: (g) => g.id,
    invalidates: [serverKeys.groups, serverKeys.all],
  });
  const removeRule = useRowAction({
    run: (r: FirewallRule) =>
      ok(api.DELETE("/api/v1/firewall-groups/{group}/rules/{rule}", { params: { path: { group: group.id, rule: r.id } } })),
    confirm: () => "Remove this rule?",
    done: () => "Rule removed",
    id: (r) => r.id,
    onDone: (_r, out) => changed(out.pushed),
  });
  return (
    <div data-testid="firewall-group" data-name={group.name}>
      <Card
        title={
          <>
            {group.name}{" "}
            <span className="font-normal text-zinc-500">
              · inbound default {group.default_inbound} · outbound default {group.default_outbound}
            </span>
          </>
        }
        actions={
          manage ? (
            <>
              <Button size="sm" onClick={() => setDialog("rule")}>
                Add rule
              </Button>
              <Button size="sm" variant="secondary" onClick={() => setDialog("edit")}>
                Edit
              </Button>
              <RemoveButton label="Delete" busy={removeGroup.busy(group)} onClick={() => removeGroup.run(group)} />
            </>
          ) : null
        }
      >
        {group.description ? <p className="mb-2 text-sm text-zinc-500">{group.description}</p> : null}
        <PushReport pushed={pushed} />
        <p className="mb-2 text-sm" data-testid="group-servers">
          Applied to:{" "}
          {group.servers.length
            ? group.servers.map((s, i) => (
                <span key={s.id}>
                  {i ? ", " : ""}
                  <Link to="/servers/$serverId" params={{ serverId: s.id }} className={ROW_LINK}>
                    {s.name}
                  </Link>
                </span>
              ))
            : "no server"}
        </p>
        <DataTable
          spec={RULES}
          state={{ isPending: false, error: null }}
          rows={group.rules}
          actions={
            manage
              ? (r) => (
                  <span className="inline-flex gap-1">
                    <Button size="sm" variant="secondary" onClick={() => setDialog(r)}>
                      Edit
                    </Button>
                    <RemoveButton busy={removeRule.busy(r)} onClick={() => removeRule.run(r)} />
                  </span>
                )
              : undefined
          }
        />
      </Card>
      <Dialog open={dialog === "edit"} onOpenChange={(o) => !o && setDialog(null)} title={`Edit ${group.name}`}>
        <GroupForm
          group={group}
          onDone={(p) => {
            setDialog(null);
            changed(p);
          }}
        />
      </Dialog>
      <Dialog
        open={dialog !== null && dialog !== "edit"}
        onOpenChange={(o) => !o && setDialog(null)}
        title={dialog && typeof dialog === "object" ? `Edit rule ${dialog.position}` : `Add a rule to ${group.name}`}
        description="Saved and pushed at once to every server that has the group."
      >
        {dialog !== null && dialog !== "edit" ? (
          <RuleForm
            group={group}
            rule={typeof dialog === "object" ? dialog : null}
            onDone={(p) => {
              setDialog(null);
              changed(p);
            }}
          />
        ) : null}
      </Dialog>
    </div>
  );
}

function GroupForm({ group, onDone }: { group: FirewallGroup | null; onDone: (pushed: readonly Push[]) => void }) {
  const [form, setForm] = useState({
    name: group?.name ?? "",
    description: group?.description ?? "",
    default_inbound: group?.default_inbound ?? "allow",
    default_outbound: group?.default_outbound ?? "allow",
  });
  const [error, setError] = useState<unknown>(null);
  const set = (p: Partial<typeof form>) => setForm((f) => ({ ...f, ...p }));
  const body = { ...form, name: form.name.trim(), description: form.description.trim() || null };
  const submit = async (): Promise<readonly Push[]> => {
    try {
      if (group) return (await ok(api.PATCH("/api/v1/firewall-groups/{group}", { params: { path: { group: group.id } }, body }))).pushed;
      await ok(api.POST("/api/v1/firewall-groups", { body: { ...body, rules: [] } }));
      return [];
    } catch (e) {
      setError(e);
      throw e;
    }
  };
  return (
    <ApiForm submit={submit} done={() => `Group ${body.name} saved`} onDone={onDone} action={group ? "Save group" : "Create group"}>
      <Field label="Group name" error={fieldError(error, "name")}>
        <Input name="name" required value={form.name} onChange={(e) => set({ name: e.target.value })} placeholder="web-public" />
      </Field>
      <Field label="Description" error={fieldError(error, "description")}>
        <Input name="description" value={form.description} onChange={(e) => set({ description: e.target.value })} />
      </Field>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Inbound default" hint="deny: only what a rule allows comes in">
          <Select value={form.default_inbound} onChange={(e) => set({ default_inbound: e.target.value as "allow" | "deny" })}>
            <option>allow</option>
            <option>deny</option>
          </Select>
        </Field>
        <Field label="Outbound default">
          <Select value={form.default_outbound} onChange={(e) => set({ default_outbound: e.target.value as "allow" | "deny" })}>
            <option>allow</option>
            <option>deny</option>
          </Select>
        </Field>
      </div>
    </ApiForm>
  );
}

function RuleForm({ group, rule, onDone }: { group: FirewallGroup; rule: FirewallRule | null; onDone: (pushed: readonly Push[]) => void }) {
  const [form, setForm] = useState({
    direction: rule?.direction ?? "in",
    protocol: rule?.protocol ?? "tcp",
    port: rule?.port ?? "",
    cidr: rule && rule.cidr !== "0.0.0.0/0" ? rule.cidr : "",
    action: rule?.action ?? "allow",
    description: rule?.description ?? "",
  });
  const [error, setError] = useState<unknown>(null);
  const set = (p: Partial<typeof form>) => setForm((f) => ({ ...f, ...p }));
  const ported = form.protocol === "tcp" || form.protocol === "udp";
  // The generated types drop the null the API takes (zod's nullish on a transformed field); null is
  // how an edit clears a rule's port. An empty peer is sent as anywhere, which the API also reads.
  const body = {
    direction: form.direction,
    protocol: form.protocol,
    port: (ported && form.port.trim() ? form.port.trim() : null) as unknown as string | undefined,
    cidr: form.cidr.trim() || "0.0.0.0/0",
    action: form.action,
    description: form.description.trim() || null,
  };
  const submit = async () => {
    try {
      const path = { group: group.id };
      const out = rule
        ? await ok(api.PATCH("/api/v1/firewall-groups/{group}/rules/{rule}", { params: { path: { ...path, rule: rule.id } }, body }))
        : await ok(api.POST("/api/v1/firewall-groups/{group}/rules", { params: { path }, body }));
      return out.pushed;
    } catch (e) {
      setError(e);
      throw e;
    }
  };
  return (
    <ApiForm submit={submit} done={() => (rule ? "Rule saved" : "Rule added")} onDone={onDone} action={rule ? "Save rule" : "Add rule"}>
      <div className="grid gap-3 sm:grid-cols-3">
        <Field label="Direction">
          <Select value={form.direction} onChange={(e) => set({ direction: e.target.value as "in" | "out" })}>
            <option value="in">inbound</option>
            <option value="out">outbound</option>
          </Select>
        </Field>
        <Field label="Protocol">
          <Select value={form.protocol} onChange={(e) => set({ protocol: e.target.value as FirewallRule["protocol"] })}>
            {["tcp", "udp", "icmp", "all"].map((p) => (
              <option key={p}>{p}</option>
            ))}
          </Select>
        </Field>
        <Field label="Action">
          <Select value={form.action} onChange={(e) => set({ action: e.target.value as "allow" | "deny" })}>
            <option>allow</option>
            <option>deny</option>
          </Select>
        </Field>
      </div>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field
          label="Port"
          hint={ported ? "80 or 8000-8100; empty for every port" : "Only tcp and udp have ports"}
          error={fieldError(error, "port")}
        >
          <Input name="port" disabled={!ported} value={form.port} onChange={(e) => set({ port: e.target.value })} placeholder="80" />
        </Field>
        <Field label="Peer CIDR" hint="Source of inbound, destination of outbound; empty for anywhere" error={fieldError(error, "cidr")}>
          <Input name="cidr" value={form.cidr} onChange={(e) => set({ cidr: e.target.value })} placeholder="10.0.0.0/8" />
        </Field>
      </div>
      <Field label="Description" error={fieldError(error, "description")}>
        <Input name="description" value={form.description} onChange={(e) => set({ description: e.target.value })} />
      </Field>
    </ApiForm>
  );
}
