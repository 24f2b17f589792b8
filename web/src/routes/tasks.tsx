// Tasks (image pulls, bulk actions, deployments) with progress and cancel.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useMemo, useState } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { useHostName } from "../api/hosts.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, StateBadge } from "../components/ui/card.tsx";
import { DataTable, ROW_LINK, type TableSpec } from "../components/ui/data-table.tsx";
import { Select } from "../components/ui/input.tsx";
import { ago } from "../lib/format.ts";
import { useList } from "../lib/use-list.ts";

const STATUSES = ["all", "queued", "running", "succeeded", "failed", "cancelled"] as const;
type Task = Schemas["Task"];
const active = (t: Task) => t.status === "running" || t.status === "queued";

type Targets = { deployments: Map<string, Schemas["DeploymentListItem"]>; backups: Map<string, Schemas["Backup"]> };

/**
 * Where a task leads: a deployment to its build log in its application, a host task to its host,
 * a backup or restore to the backups of what it copied (a volume, a container, a database).
 */
function TaskTarget({ t, targets: { deployments, backups } }: { t: Task; targets: Targets }) {
  const hostName = useHostName();
  if (t.target_type === "host" && t.target_id)
    return (
      <Link to="/docker-hosts/$hostId" params={{ hostId: t.target_id }} className={ROW_LINK}>
        {hostName(t.target_id)}
      </Link>
    );
  const d = t.target_type === "deployment" && t.target_id ? deployments.get(t.target_id) : undefined;
  if (d)
    return (
      <Link
        to="/applications/$applicationId"
        params={{ applicationId: d.application_id }}
        search={{ tab: "deployments", deployment: d.id }}
        className={ROW_LINK}
      >
        {d.application_name}
      </Link>
    );
  const b = t.target_type === "backup" && t.target_id ? backups.get(t.target_id) : undefined;
  if (b)
    return (
      <Link
        to="/backups"
        search={
          b.target.host_id ? { kind: b.target.kind, host: b.target.host_id, ref: b.target.id } : { kind: b.target.kind, ref: b.target.id }
        }
        className={ROW_LINK}
      >
        {b.target.label}
      </Link>
    );
  return "—";
}

function taskColumns(targets: Targets): TableSpec<Task> {
  return {
    columns: [
      { header: "Kind", cell: (t) => t.kind },
      { header: "On", cell: (t) => <TaskTarget t={t} targets={targets} /> },
      { header: "State", cell: (t) => <StateBadge state={t.status} /> },
      {
        header: "Progress",
        cell: (t) => <progress max={100} value={t.progress} className="h-2 w-24" aria-label={`${Math.round(t.progress)} %`} />,
      },
      // Cut to the column; the whole message (a backup's checksum, an error) on hover.
      {
        header: "Message",
        hideBelow: "md",
        className: "max-w-[24rem] truncate",
        cell: (t) => <span title={t.message ?? undefined}>{t.message ?? "—"}</span>,
      },
      { header: "Created", hideBelow: "sm", cell: (t) => ago(t.created_at) },
    ],
    empty: "No task.",
    rowProps: (t) => ({ "data-testid": "task-row", "data-status": t.status, "data-kind": t.kind }),
  };
}

export function TasksPage() {
  const [status, setStatus] = useState<(typeof STATUSES)[number]>("all");
  const can = useCan();
  // A task is not removed but cancelled: the list's one row action.
  const { list: tasks, remove: cancel } = useList(
    {
      queryKey: keys.tasks.list(status),
      queryFn: () => ok(api.GET("/api/v1/tasks", { params: { query: { limit: 100, ...(status === "all" ? {} : { status }) } } })),
      // Tasks have no stream of their own: follow running ones by reading again.
      refetchInterval: (q) => (q.state.data?.tasks.some(active) ? 2000 : false),
    },
    {
      run: (id: string) => ok(api.POST("/api/v1/tasks/{id}/cancel", { params: { path: { id } } })),
      done: () => "Cancel requested",
      invalidates: [keys.tasks.all],
    },
  );
  // A deployment task names only the deployment: the application comes from the deployment list,
  // read only when deployment tasks are shown.
  const hasDeployments = !!tasks.data?.tasks.some((t) => t.target_type === "deployment");
  const latest = useQuery({
    queryKey: [...keys.deployments.latest(), 100],
    queryFn: () => ok(api.GET("/api/v1/deployments", { params: { query: { limit: 100 } } })),
    enabled: hasDeployments,
  });
  // A backup or restore task names only the backup: what it copied comes from the backup list.
  const hasBackups = !!tasks.data?.tasks.some((t) => t.target_type === "backup");
  const backups = useQuery({
    queryKey: ["backups", "latest", 100],
    queryFn: () => ok(api.GET("/api/v1/backups", { params: { query: { limit: 100 } } })),
    enabled: hasBackups,
  });
  const spec = useMemo(
    () =>
      taskColumns({
        deployments: new Map((latest.data?.deployments ?? []).map((d) => [d.id, d])),
        backups: new Map((backups.data?.backups ?? []).map((b) => [b.id, b])),
      }),
    [latest.data, backups.data],
  );
  return (
    <>
      <PageTitle
        actions={
          <Select
            aria-label="Status"
            value={status}
            onChange={(e) => setStatus(e.target.value as (typeof STATUSES)[number])}
            className="w-36"
          >
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </Select>
        }
      >
        Tasks
      </PageTitle>
      <Card>
        <DataTable
          spec={spec}
          state={tasks}
          rows={tasks.data?.tasks}
          actions={
            can.operate
              ? (t) =>
                  active(t) ? (
                    <Button size="sm" variant="secondary" busy={cancel.busy(t.id)} onClick={() => cancel.run(t.id)}>
                      Cancel
                    </Button>
                  ) : null
              : undefined
          }
        />
      </Card>
    </>
  );
}
