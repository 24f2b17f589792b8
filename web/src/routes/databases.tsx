// Database services: the list (by project and environment) and one database's page: its state,
// start/stop/restart for members and up, and its credentials for admins only (the API audits each
// read; everyone else sees them masked and no button to reveal them).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { useState } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { useDatabases } from "../api/databases.ts";
import { useHostName } from "../api/hosts.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { DataTable, type TableSpec, ROW_LINK } from "../components/ui/data-table.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";

const dbKeys = keys.databases;
const MASK = "••••••••";
type Database = Schemas["Database"];

export function DatabasesPage() {
  const list = useDatabases();
  const projects = useQuery({
    queryKey: keys.projects.list(),
    queryFn: () => ok(api.GET("/api/v1/projects", { params: { query: { limit: 200 } } })),
  });
  const projectName = (id: string) => projects.data?.projects.find((p) => p.id === id)?.name ?? id;
  const table: TableSpec<Database> = {
    columns: [
      { header: "Name", cell: (d) => <DatabaseLink database={d} /> },
      { header: "State", cell: (d) => <StateBadge state={d.status} /> },
      { header: "Engine", hideBelow: "sm", cell: (d) => d.engine },
      { header: "Project", hideBelow: "sm", cell: (d) => projectName(d.project_id) },
    ],
    empty: "No database yet: create one in a project.",
    rowProps: (d) => ({ "data-testid": "database-row", "data-name": d.name }),
  };
  return (
    <>
      <PageTitle>Databases</PageTitle>
      <Card>
        <DataTable spec={table} state={list} rows={list.data?.databases} />
      </Card>
    </>
  );
}

export function DatabasePage() {
  const { databaseId } = useParams({ strict: false }) as { databaseId: string };
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const db = useQuery({
    queryKey: dbKeys.detail(databaseId),
    queryFn: () => ok(api.GET("/api/v1/databases/{id}", { params: { path: { id: databaseId } } })),
    // Provisioning (idle) settles on the host without a stream event of its own: follow it.
    refetchInterval: (q) => (q.state.data?.status === "idle" ? 2000 : false),
  });
  const act = useMutation({
    mutationFn: (action: "start" | "stop" | "restart") => {
      const params = { params: { path: { id: databaseId } } };
      return action === "start"
        ? ok(api.POST("/api/v1/databases/{id}/start", params))
        : action === "stop"
          ? ok(api.POST("/api/v1/databases/{id}/stop", params))
          : ok(api.POST("/api/v1/databases/{id}/restart", params));
    },
    onSuccess: (d, action) => {
      toast.ok(`${d.name}: ${action === "stop" ? "stopped" : action === "start" ? "started" : "restarted"}`);
      qc.setQueryData(dbKeys.detail(databaseId), d);
      void qc.invalidateQueries({ queryKey: dbKeys.list() });
    },
    onError: (err) => toast.error(err),
  });
  const d = db.data;
  const running = d?.status === "running";
  // Named, not numbered: the project (and environment) and host it lives in.
  const project = useQuery({
    queryKey: keys.projects.detail(d?.project_id ?? ""),
    queryFn: () => ok(api.GET("/api/v1/projects/{id}", { params: { path: { id: d?.project_id ?? "" } } })),
    enabled: !!d,
  });
  const environment = project.data?.environments.find((e) => e.id === d?.environment_id);
  const hostName = useHostName();
  return (
    <>
      <PageTitle
        actions={
          can.operate && d ? (
            running ? (
              <>
                <Button variant="secondary" busy={act.isPending && act.variables === "restart"} onClick={() => act.mutate("restart")}>
                  Restart
                </Button>
                <Button variant="secondary" busy={act.isPending && act.variables === "stop"} onClick={() => act.mutate("stop")}>
                  Stop
                </Button>
              </>
            ) : (
              <Button busy={act.isPending && act.variables === "start"} onClick={() => act.mutate("start")}>
                Start
              </Button>
            )
          ) : null
        }
      >
        <Link to="/databases" className="text-zinc-500 hover:underline">
          Databases
        </Link>{" "}
        / {d?.name ?? "…"}{" "}
        <Link
          to="/backups"
          search={{ kind: "database", ref: databaseId }}
          className="ml-2 text-sm font-normal text-sky-700 hover:underline dark:text-sky-400"
        >
          Backups
        </Link>
      </PageTitle>
      <ErrorNote error={db.error} />
      {d ? (
        <div className="grid gap-4 lg:grid-cols-2">
          <Card title="Service">
            <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm">
              <dt className="text-zinc-500">State</dt>
              <dd>
                <StateBadge state={d.status} data-testid="database-status" />
                {d.error ? <span className="block text-red-700 dark:text-red-400">{d.error}</span> : null}
              </dd>
              <dt className="text-zinc-500">Engine</dt>
              <dd>
                {d.engine} <span className="text-zinc-500">({d.image})</span>
              </dd>
              <dt className="text-zinc-500">Project</dt>
              <dd>
                <Link
                  to="/projects/$projectId"
                  params={{ projectId: d.project_id }}
                  className="text-sky-700 hover:underline dark:text-sky-400"
                  data-testid="database-project"
                >
                  {project.data?.name ?? d.project_id}
                </Link>
                {environment ? <span className="text-zinc-500"> · {environment.name}</span> : null}
              </dd>
              <dt className="text-zinc-500">Host</dt>
              <dd>
                {d.host_id ? (
                  <Link
                    to="/docker-hosts/$hostId"
                    params={{ hostId: d.host_id }}
                    className="text-sky-700 hover:underline dark:text-sky-400"
                    data-testid="database-host"
                  >
                    {hostName(d.host_id)}
                  </Link>
                ) : (
                  "—"
                )}
              </dd>
              <dt className="text-zinc-500">Volume</dt>
              <dd className="font-mono break-all">{d.volume}</dd>
              <dt className="text-zinc-500">Created</dt>
              <dd>{ago(d.created_at)}</dd>
            </dl>
          </Card>
          <Connection
            id={d.id}
            internal={`${d.internal_host}:${d.internal_port}`}
            external={d.external_port}
            user={d.database_user}
            database={d.database_name}
          />
        </div>
      ) : null}
    </>
  );
}

function Connection(props: { id: string; internal: string; external: number | null; user: string | null; database: string | null }) {
  const can = useCan();
  const [shown, setShown] = useState(false);
  const conn = useQuery({
    queryKey: dbKeys.connection(props.id),
    queryFn: () => ok(api.GET("/api/v1/databases/{id}/connection", { params: { path: { id: props.id } } })),
    enabled: can.admin && shown,
    staleTime: 0,
    gcTime: 0,
  });
  const c = shown ? conn.data : undefined;
  return (
    <Card
      title="Connection"
      actions={
        can.admin ? (
          <Button size="sm" variant="secondary" busy={conn.isFetching} onClick={() => setShown((s) => !s)}>
            {shown ? "Hide credentials" : "Show credentials"}
          </Button>
        ) : null
      }
    >
      <ErrorNote error={conn.error} />
      <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-sm" data-testid="database-connection">
        <dt className="text-zinc-500">Inside the network</dt>
        <dd className="font-mono break-all">{props.internal}</dd>
        <dt className="text-zinc-500">Published port</dt>
        <dd className="font-mono">{props.external ?? "none"}</dd>
        <dt className="text-zinc-500">User</dt>
        <dd className="font-mono">{c?.user ?? props.user ?? "—"}</dd>
        <dt className="text-zinc-500">Database</dt>
        <dd className="font-mono">{c?.database ?? props.database ?? "—"}</dd>
        <dt className="text-zinc-500">Password</dt>
        <dd className="font-mono break-all">{c?.password ?? MASK}</dd>
        {c?.root_password ? (
          <>
            <dt className="text-zinc-500">Root password</dt>
            <dd className="font-mono break-all">{c.root_password}</dd>
          </>
        ) : null}
        <dt className="text-zinc-500">Connection string</dt>
        <dd className="font-mono break-all">{c?.connection_string ?? MASK}</dd>
      </dl>
      {can.admin ? null : <p className="mt-2 text-xs text-zinc-500">Only owners and admins can read the credentials.</p>}
    </Card>
  );
}

function DatabaseLink({ database }: { database: Database }) {
  return (
    <Link to="/databases/$databaseId" params={{ databaseId: database.id }} className={ROW_LINK}>
      {database.name}
    </Link>
  );
}
