// Alerts and their rules. Live: the layout's event stream invalidates ["alerts"] whenever an
// alert.* notification arrives, and every query here lives under that key.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useHostName } from "../api/hosts.ts";
import { api, ok, type Schemas } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { ApiForm } from "../components/api-form.tsx";
import { HostOptions } from "../components/host-options.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, StateBadge } from "../components/ui/card.tsx";
import { DataTable, RemoveButton, type TableSpec } from "../components/ui/data-table.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { ago } from "../lib/format.ts";
import { type RowAction, useList, useRowAction } from "../lib/use-list.ts";

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

type Alert = Schemas["Alert"];
type AlertAction = { id: string; action: "acknowledge" | "clear" };

function AlertList({ state }: { state: AlertState }) {
  const can = useCan();
  const hostName = useHostName();
  const list = useQuery({
    queryKey: alertKeys.list(state),
    queryFn: () => ok(api.GET("/api/v1/alerts", { params: { query: { state, limit: 100 } } })),
  });
  const act = useRowAction<AlertAction>({
    run: ({ id, action }) =>
      action === "acknowledge"
        ? ok(api.POST("/api/v1/alerts/{id}/acknowledge", { params: { path: { id } } }))
        : ok(api.POST("/api/v1/alerts/{id}/clear", { params: { path: { id } } })),
    done: (v) => (v.action === "acknowledge" ? "Alert acknowledged" : "Alert resolved"),
    invalidates: [keys.alerts.all],
    id: (v) => v.id,
  });
  const table: TableSpec<Alert> = {
    columns: [
      {
        header: "Alert",
        cell: (a) => (
          <>
            <StateBadge state={a.state} /> <span className="font-medium">{a.metric}</span> on {hostName(a.host_id)}: {a.value.toFixed(1)}%
            (threshold {a.threshold}%)
          </>
        ),
      },
      {
        header: "Since",
        hideBelow: "sm",
        className: "text-xs text-zinc-500",
        cell: (a) =>
          `${ago(a.since)} · peak ${a.peak_value.toFixed(1)}%${a.acknowledged_at ? ` · acknowledged ${ago(a.acknowledged_at)}` : ""}${
            a.resolved_at ? ` · resolved ${ago(a.resolved_at)}` : ""
          }`,
      },
    ],
    empty: `No ${state} alert.`,
    rowProps: (a) => ({
      "data-testid": "alert",
      "data-state": a.state,
      "data-metric": a.metric,
      "data-acknowledged": a.acknowledged_at ? "true" : "false",
    }),
  };
  return (
    <Card className="mb-4">
      <DataTable
        spec={table}
        state={list}
        rows={list.data?.alerts}
        actions={can.operate ? (a) => <AlertActions alert={a} act={act} /> : undefined}
      />
    </Card>
  );
}

function AlertActions({ alert, act }: { alert: Alert; act: RowAction<AlertAction> }) {
  if (alert.state === "resolved") return null;
  const acknowledge = { id: alert.id, action: "acknowledge" } as const;
  return (
    <>
      {alert.acknowledged_at ? null : (
        <Button size="sm" variant="secondary" busy={act.busy(acknowledge)} onClick={() => act.run(acknowledge)}>
          Acknowledge
        </Button>
      )}{" "}
      <Button size="sm" variant="ghost" onClick={() => act.run({ id: alert.id, action: "clear" })}>
        Resolve
      </Button>
    </>
  );
}

/** A rule of the organization's, or the default that applies where there is none. */
type RuleRow = { rule: Rule; isDefault: boolean };

function RulesCard() {
  const can = useCan();
  const qc = useQueryClient();
  const nameOf = useHostName();
  const hostName = (id: string | null) => (id ? nameOf(id) : "All hosts");
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const { list: rules, remove } = useList(
    { queryKey: alertKeys.rules(), queryFn: () => ok(api.GET("/api/v1/alert-rules")) },
    {
      run: (r: Rule) => ok(api.DELETE("/api/v1/alert-rules/{id}", { params: { path: { id: r.id! } } })),
      confirm: (r) => `Delete the ${r.metric} rule for ${hostName(r.host_id)}?`,
      done: () => "Rule deleted: the default applies again",
      invalidates: [keys.alerts.all],
      id: (r) => r.id,
    },
  );
  const rows: RuleRow[] | undefined = rules.data && [
    ...rules.data.rules.map((rule) => ({ rule, isDefault: false })),
    ...rules.data.defaults.map((rule) => ({ rule, isDefault: true })),
  ];
  const table: TableSpec<RuleRow> = {
    columns: [
      { header: "Metric", cell: ({ rule, isDefault }) => (isDefault ? rule.metric : <span className="font-medium">{rule.metric}</span>) },
      { header: "Scope", cell: ({ rule, isDefault }) => (isDefault ? "Default" : hostName(rule.host_id)) },
      { header: "Threshold", cell: ({ rule }) => `${rule.threshold}%` },
      { header: "For", cell: ({ rule }) => `${rule.duration_seconds}s` },
      { header: "On", cell: ({ rule }) => (rule.enabled ? "yes" : "no") },
    ],
    rowKey: ({ rule, isDefault }) => (isDefault ? `default-${rule.metric}` : rule.id!),
    rowProps: ({ rule, isDefault }) =>
      isDefault
        ? { "data-testid": "alert-rule-default", className: "text-zinc-500" }
        : { "data-testid": "alert-rule", "data-metric": rule.metric },
  };
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
      <DataTable
        spec={table}
        state={rules}
        rows={rows}
        actions={
          can.admin
            ? ({ rule, isDefault }) =>
                isDefault ? null : (
                  <>
                    <Button size="sm" variant="secondary" onClick={() => setEditing(rule)}>
                      Edit
                    </Button>{" "}
                    <RemoveButton label="Delete" busy={remove.busy(rule)} onClick={() => remove.run(rule)} />
                  </>
                )
            : undefined
        }
      />
    </Card>
  );
}

function RuleForm({ rule, onDone }: { rule: Rule | null; onDone: () => void }) {
  const [metric, setMetric] = useState<Metric>(rule?.metric ?? "cpu");
  const [hostId, setHostId] = useState(rule?.host_id ?? "");
  const [threshold, setThreshold] = useState(String(rule?.threshold ?? 90));
  const [duration, setDuration] = useState(String(rule?.duration_seconds ?? 300));
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const save = () => {
    const values = { threshold: Number(threshold), duration_seconds: Number(duration), enabled };
    return rule?.id
      ? ok(api.PATCH("/api/v1/alert-rules/{id}", { params: { path: { id: rule.id } }, body: values }))
      : ok(api.POST("/api/v1/alert-rules", { body: { ...values, metric, host_id: hostId || null } }));
  };
  return (
    <ApiForm submit={save} done={() => (rule ? "Rule saved" : "Rule created")} onDone={onDone} action={rule ? "Save" : "Create rule"}>
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
            <HostOptions />
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
    </ApiForm>
  );
}
