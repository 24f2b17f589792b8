// Alerts and their rules. Live: the layout's event stream invalidates ["alerts"] whenever an
// alert.* notification arrives, and every query here lives under that key.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";
import { useHosts } from "./hosts.tsx";

type Rule = Schemas["AlertRule"];
type Metric = Rule["metric"];
const METRICS: Metric[] = ["cpu", "memory", "disk"];
const STATES = [
  { id: "firing", label: "Firing" },
  { id: "pending", label: "Pending" },
  { id: "resolved", label: "Resolved" },
] as const;
type AlertState = (typeof STATES)[number]["id"];

const alertKeys = {
  list: (state: string) => [...keys.alerts.all, "list", state] as const,
  rules: () => [...keys.alerts.all, "rules"] as const,
};

export function AlertsPage() {
  const [state, setState] = useState<AlertState>("firing");
  return (
    <>
      <PageTitle>Alerts</PageTitle>
      <Tabs tabs={STATES} value={state} onChange={setState} />
      <AlertList state={state} />
      <RulesCard />
    </>
  );
}

function AlertList({ state }: { state: AlertState }) {
  const qc = useQueryClient();
  const toast = useToast();
  const can = useCan();
  const hosts = useHosts();
  const hostName = (id: string) => hosts.data?.hosts.find((h) => h.id === id)?.name ?? id;
  const list = useQuery({
    queryKey: alertKeys.list(state),
    queryFn: () => ok(api.GET("/api/v1/alerts", { params: { query: { state, limit: 100 } } })),
  });
  const act = useMutation({
    mutationFn: ({ id, action }: { id: string; action: "acknowledge" | "clear" }) =>
      action === "acknowledge"
        ? ok(api.POST("/api/v1/alerts/{id}/acknowledge", { params: { path: { id } } }))
        : ok(api.POST("/api/v1/alerts/{id}/clear", { params: { path: { id } } })),
    onSuccess: (_, v) => {
      toast.ok(v.action === "acknowledge" ? "Alert acknowledged" : "Alert resolved");
      void qc.invalidateQueries({ queryKey: keys.alerts.all });
    },
    onError: (err) => toast.error(err),
  });
  return (
    <Card className="mb-4">
      <ErrorNote error={list.error} />
      {list.data?.alerts.length === 0 ? <Empty>No {state} alert.</Empty> : null}
      <ul className="divide-y divide-zinc-200 dark:divide-zinc-800">
        {list.data?.alerts.map((a) => (
          <li
            key={a.id}
            data-testid="alert"
            data-state={a.state}
            data-metric={a.metric}
            data-acknowledged={a.acknowledged_at ? "true" : "false"}
            className="flex flex-wrap items-start justify-between gap-2 py-3"
          >
            <div className="min-w-0 text-sm">
              <p className="font-medium">
                <StateBadge state={a.state} /> {a.metric} on {hostName(a.host_id)}: {a.value.toFixed(1)}% (threshold {a.threshold}%)
              </p>
              <p className="text-xs text-zinc-500">
                since {ago(a.since)} · peak {a.peak_value.toFixed(1)}%{a.acknowledged_at ? ` · acknowledged ${ago(a.acknowledged_at)}` : ""}
                {a.resolved_at ? ` · resolved ${ago(a.resolved_at)}` : ""}
              </p>
            </div>
            {can.operate && a.state !== "resolved" ? (
              <div className="flex gap-1">
                {a.acknowledged_at ? null : (
                  <Button size="sm" variant="secondary" onClick={() => act.mutate({ id: a.id, action: "acknowledge" })}>
                    Acknowledge
                  </Button>
                )}
                <Button size="sm" variant="ghost" onClick={() => act.mutate({ id: a.id, action: "clear" })}>
                  Resolve
                </Button>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </Card>
  );
}

function RulesCard() {
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const hosts = useHosts();
  const hostName = (id: string | null) => (id ? (hosts.data?.hosts.find((h) => h.id === id)?.name ?? id) : "All hosts");
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const rules = useQuery({ queryKey: alertKeys.rules(), queryFn: () => ok(api.GET("/api/v1/alert-rules")) });
  const remove = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/api/v1/alert-rules/{id}", { params: { path: { id } } })),
    onSuccess: () => {
      toast.ok("Rule deleted: the default applies again");
      void qc.invalidateQueries({ queryKey: keys.alerts.all });
    },
    onError: (err) => toast.error(err),
  });
  return (
    <Card
      title="Rules"
      actions={
        can.admin ? (
          <Button size="sm" onClick={() => setEditing("new")}>
            New rule
          </Button>
        ) : null
      }
    >
      <Dialog
        open={editing !== null}
        onOpenChange={(o) => (o ? null : setEditing(null))}
        title={editing === "new" ? "New alert rule" : "Edit alert rule"}
        description="An alert fires when the metric stays above the threshold for the duration."
      >
        {editing ? (
          <RuleForm
            rule={editing === "new" ? null : editing}
            onDone={() => {
              setEditing(null);
              void qc.invalidateQueries({ queryKey: keys.alerts.all });
            }}
          />
        ) : null}
      </Dialog>
      <ErrorNote error={rules.error} />
      <div className="overflow-x-auto">
        <table className="w-full text-left text-sm">
          <thead className="text-xs text-zinc-500 uppercase">
            <tr>
              <th className="py-2 pr-3">Metric</th>
              <th className="py-2 pr-3">Scope</th>
              <th className="py-2 pr-3">Threshold</th>
              <th className="py-2 pr-3">For</th>
              <th className="py-2 pr-3">On</th>
              {can.admin ? (
                <th className="py-2 pr-3">
                  <span className="sr-only">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {rules.data?.rules.map((r) => (
              <tr key={r.id} data-testid="alert-rule" data-metric={r.metric}>
                <td className="py-2 pr-3 font-medium">{r.metric}</td>
                <td className="py-2 pr-3">{hostName(r.host_id)}</td>
                <td className="py-2 pr-3">{r.threshold}%</td>
                <td className="py-2 pr-3">{r.duration_seconds}s</td>
                <td className="py-2 pr-3">{r.enabled ? "yes" : "no"}</td>
                {can.admin ? (
                  <td className="py-2 pr-3 text-right whitespace-nowrap">
                    <Button size="sm" variant="secondary" onClick={() => setEditing(r)}>
                      Edit
                    </Button>{" "}
                    <Button
                      size="sm"
                      variant="ghost"
                      busy={remove.isPending && remove.variables === r.id}
                      onClick={() => {
                        if (r.id && window.confirm(`Delete the ${r.metric} rule for ${hostName(r.host_id)}?`)) remove.mutate(r.id);
                      }}
                    >
                      Delete
                    </Button>
                  </td>
                ) : null}
              </tr>
            ))}
            {rules.data?.defaults.map((r) => (
              <tr key={`default-${r.metric}`} data-testid="alert-rule-default" className="text-zinc-500">
                <td className="py-2 pr-3">{r.metric}</td>
                <td className="py-2 pr-3">Default</td>
                <td className="py-2 pr-3">{r.threshold}%</td>
                <td className="py-2 pr-3">{r.duration_seconds}s</td>
                <td className="py-2 pr-3">{r.enabled ? "yes" : "no"}</td>
                {can.admin ? <td /> : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function RuleForm({ rule, onDone }: { rule: Rule | null; onDone: () => void }) {
  const toast = useToast();
  const hosts = useHosts();
  const [metric, setMetric] = useState<Metric>(rule?.metric ?? "cpu");
  const [hostId, setHostId] = useState(rule?.host_id ?? "");
  const [threshold, setThreshold] = useState(String(rule?.threshold ?? 90));
  const [duration, setDuration] = useState(String(rule?.duration_seconds ?? 300));
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const save = useMutation({
    mutationFn: () => {
      const values = { threshold: Number(threshold), duration_seconds: Number(duration), enabled };
      return rule?.id
        ? ok(api.PATCH("/api/v1/alert-rules/{id}", { params: { path: { id: rule.id } }, body: values }))
        : ok(api.POST("/api/v1/alert-rules", { body: { ...values, metric, host_id: hostId || null } }));
    },
    onSuccess: () => {
      toast.ok(rule ? "Rule saved" : "Rule created");
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form className="grid gap-3" onSubmit={submit}>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Metric">
          <Select name="metric" value={metric} disabled={!!rule} onChange={(e) => setMetric(e.target.value as Metric)}>
            {METRICS.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Hosts">
          <Select name="host_id" value={hostId} disabled={!!rule} onChange={(e) => setHostId(e.target.value)}>
            <option value="">All hosts</option>
            {hosts.data?.hosts.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Threshold (%)">
          <Input
            name="threshold"
            type="number"
            min={0}
            max={100}
            step="any"
            required
            value={threshold}
            onChange={(e) => setThreshold(e.target.value)}
          />
        </Field>
        <Field label="For (seconds)">
          <Input name="duration_seconds" type="number" min={0} required value={duration} onChange={(e) => setDuration(e.target.value)} />
        </Field>
      </div>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" name="enabled" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} /> Enabled
      </label>
      <ErrorNote error={save.error} />
      <div className="flex justify-end">
        <Button type="submit" busy={save.isPending}>
          {rule ? "Save" : "Create rule"}
        </Button>
      </div>
    </form>
  );
}
