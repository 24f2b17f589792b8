// The overview: hosts with state and load, firing alerts, running tasks, latest deployments,
// unread notifications. Each list is a query the live streams keep fresh.
import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useHostName, useHosts } from "../api/hosts.ts";
import { api, ok } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { PageTitle } from "../components/layout.tsx";
import { Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { ago } from "../lib/format.ts";

export function OverviewPage() {
  const hosts = useHosts();
  const hostName = useHostName();
  const alerts = useQuery({
    queryKey: keys.alerts.firing(),
    queryFn: () => ok(api.GET("/api/v1/alerts", { params: { query: { state: "firing" } } })),
  });
  const tasks = useQuery({
    queryKey: keys.tasks.list("running"),
    queryFn: () => ok(api.GET("/api/v1/tasks", { params: { query: { status: "running" } } })),
    refetchInterval: 5000,
  });
  const notifications = useQuery({
    queryKey: keys.notifications.list("unread"),
    queryFn: () => ok(api.GET("/api/v1/notifications", { params: { query: { unread: "true", limit: 8 } } })),
  });
  const deployments = useQuery({
    queryKey: keys.deployments.latest(),
    queryFn: () => ok(api.GET("/api/v1/deployments", { params: { query: { limit: 8 } } })),
  });

  return (
    <>
      <PageTitle>Overview</PageTitle>
      <div className="grid gap-4 lg:grid-cols-2">
        <Card
          title="Hosts"
          actions={
            <Link to="/docker-hosts" className="text-sm text-sky-600">
              All hosts
            </Link>
          }
        >
          <ErrorNote error={hosts.error} />
          {hosts.data?.hosts.length === 0 ? (
            <Empty>
              No host yet.{" "}
              <Link to="/setup" className="text-sky-600 underline">
                Attach one
              </Link>
              .
            </Empty>
          ) : null}
          <ul className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {hosts.data?.hosts.map((h) => (
              <li key={h.id} className="flex items-center justify-between gap-2 py-2 text-sm" data-testid="overview-host">
                <Link to="/docker-hosts/$hostId" params={{ hostId: h.id }} className="font-medium hover:underline">
                  {h.name}
                </Link>
                <span className="flex items-center gap-2 text-zinc-500">
                  {h.containers ? `${h.containers.running}/${h.containers.total} running` : null}
                  <StateBadge state={h.status} />
                </span>
              </li>
            ))}
          </ul>
        </Card>
        <Card
          title="Firing alerts"
          actions={
            <Link to="/alerts" className="text-sm text-sky-600">
              All alerts
            </Link>
          }
        >
          <ErrorNote error={alerts.error} />
          {alerts.data?.alerts.length === 0 ? <Empty>Nothing is firing.</Empty> : null}
          <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
            {alerts.data?.alerts.map((a) => (
              <li key={a.id} className="py-2">
                <span className="font-medium">
                  {a.metric} above {a.threshold} % on {hostName(a.host_id)}
                </span>{" "}
                <span className="text-zinc-500">{ago(a.fired_at ?? a.since)}</span>
              </li>
            ))}
          </ul>
        </Card>
        <Card
          title="Running tasks"
          actions={
            <Link to="/tasks" className="text-sm text-sky-600">
              All tasks
            </Link>
          }
        >
          <ErrorNote error={tasks.error} />
          {tasks.data?.tasks.length === 0 ? <Empty>No task is running.</Empty> : null}
          <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
            {tasks.data?.tasks.map((t) => (
              <li key={t.id} className="flex justify-between gap-2 py-2" data-testid="overview-task">
                {/* The kind alone ("backup") does not say of what: the message names it. */}
                <span className="min-w-0 truncate" title={t.message ?? undefined}>
                  <span className="font-medium">{t.kind}</span>
                  {t.message ? <span className="text-zinc-500"> {t.message}</span> : null}
                </span>
                <span className="shrink-0 text-zinc-500">{Math.round(t.progress)} %</span>
              </li>
            ))}
          </ul>
        </Card>
        <Card
          title="Latest deployments"
          actions={
            <Link to="/projects" className="text-sm text-sky-600">
              Projects
            </Link>
          }
        >
          <ErrorNote error={deployments.error} />
          {deployments.data?.deployments.length === 0 ? <Empty>No deployment yet.</Empty> : null}
          <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
            {deployments.data?.deployments.map((d) => (
              <li key={d.id} className="flex items-center justify-between gap-2 py-2" data-testid="overview-deployment">
                {/* To the application's Deployments tab with this deployment's build log open. */}
                <Link
                  to="/applications/$applicationId"
                  params={{ applicationId: d.application_id }}
                  search={{ tab: "deployments", deployment: d.id }}
                  className="min-w-0 truncate hover:underline"
                >
                  <span className="font-medium">{d.application_name}</span> <span className="text-zinc-500">{d.title}</span>
                </Link>
                <span className="flex shrink-0 items-center gap-2">
                  <span className="text-zinc-500">{ago(d.created_at)}</span>
                  <StateBadge state={d.status} />
                </span>
              </li>
            ))}
          </ul>
        </Card>
        <Card
          title="Unread notifications"
          actions={
            <Link to="/notifications" className="text-sm text-sky-600">
              All
            </Link>
          }
          className="lg:col-span-2"
        >
          <ErrorNote error={notifications.error} />
          {notifications.data?.notifications.length === 0 ? <Empty>All read.</Empty> : null}
          <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
            {notifications.data?.notifications.map((n) => (
              <li key={n.id} className="flex items-center justify-between gap-2 py-2">
                <span>
                  <StateBadge state={n.severity} /> <span className="font-medium">{n.title}</span>
                </span>
                <span className="text-zinc-500">{ago(n.created_at)}</span>
              </li>
            ))}
          </ul>
        </Card>
      </div>
    </>
  );
}
