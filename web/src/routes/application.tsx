// An application: its source, deployments (live build logs), deploy, cancel and rollback; its
// environment, domains and push webhook in their own tabs (?tab=), the shown deployment in
// ?deployment= so a webhook delivery can link to the one it started.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearch } from "@tanstack/react-router";
import { useEffect, useRef, useState } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { useEventSource } from "../api/sse.ts";
import { PageTitle } from "../components/layout.tsx";
import { LogViewer } from "../components/log-viewer.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";
import { LogBuffer, type LogStream } from "../lib/log-buffer.ts";
import { DomainsCard } from "./application-domains.tsx";
import { EnvironmentCard } from "./application-env.tsx";
import { WebhookCard } from "./application-webhook.tsx";

type Deployment = Schemas["Deployment"];
const ACTIVE = new Set(["queued", "building", "deploying"]);
const TABS = [
  { id: "deployments", label: "Deployments" },
  { id: "environment", label: "Environment" },
  { id: "domains", label: "Domains" },
  { id: "webhook", label: "Webhook" },
] as const;
type Tab = (typeof TABS)[number]["id"];

export function ApplicationPage() {
  const { applicationId: id } = useParams({ from: "/app/applications/$applicationId" });
  const search = useSearch({ from: "/app/applications/$applicationId" });
  const navigate = useNavigate({ from: "/applications/$applicationId" });
  const tab: Tab = TABS.some((t) => t.id === search.tab) ? (search.tab as Tab) : "deployments";
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const app = useQuery({
    queryKey: keys.applications.detail(id),
    queryFn: () => ok(api.GET("/api/v1/applications/{id}", { params: { path: { id } } })),
  });
  const deployments = useQuery({
    queryKey: keys.applications.deployments(id),
    queryFn: () => ok(api.GET("/api/v1/applications/{id}/deployments", { params: { path: { id }, query: { limit: 30 } } })),
    // Deployment notifications refresh this live; while one runs, its status also moves between
    // building and deploying, which raises no notification.
    refetchInterval: (q) => (q.state.data?.deployments.some((d) => ACTIVE.has(d.status)) ? 3000 : false),
  });
  const selected = search.deployment ?? null;
  const setSelected = (deployment: string) => void navigate({ search: { tab: "deployments", deployment }, replace: true });
  const list = deployments.data?.deployments ?? [];
  const shown = selected ?? list[0]?.id ?? null;

  const refresh = () => {
    void qc.invalidateQueries({ queryKey: keys.applications.deployments(id) });
    void qc.invalidateQueries({ queryKey: keys.applications.detail(id) });
  };
  const deploy = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/applications/{id}/deployments", { params: { path: { id } }, body: {} })),
    onSuccess: (d) => {
      toast.ok("Deployment queued");
      setSelected(d.id);
      refresh();
    },
    onError: (err) => toast.error(err),
  });
  const cancel = useMutation({
    mutationFn: (deploymentId: string) => ok(api.POST("/api/v1/deployments/{id}/cancel", { params: { path: { id: deploymentId } } })),
    onSuccess: () => {
      toast.ok("Cancelling");
      refresh();
    },
    onError: (err) => toast.error(err),
  });
  const rollback = useMutation({
    mutationFn: (deploymentId: string) =>
      ok(api.POST("/api/v1/applications/{id}/rollback", { params: { path: { id } }, body: { deployment_id: deploymentId } })),
    onSuccess: (d) => {
      toast.ok("Rollback queued");
      setSelected(d.id);
      refresh();
    },
    onError: (err) => toast.error(err),
  });

  const a = app.data;
  // The breadcrumb names the project (shared with the project page's query).
  const project = useQuery({
    queryKey: keys.projects.detail(a?.project_id ?? ""),
    queryFn: () => ok(api.GET("/api/v1/projects/{id}", { params: { path: { id: a!.project_id } } })),
    enabled: !!a,
  });
  return (
    <>
      <PageTitle
        actions={
          can.operate && a ? (
            <Button onClick={() => deploy.mutate()} busy={deploy.isPending}>
              Deploy
            </Button>
          ) : null
        }
      >
        {a ? (
          <Link to="/projects/$projectId" params={{ projectId: a.project_id }} className="text-zinc-500 hover:underline">
            {project.data?.name ?? "Project"}
          </Link>
        ) : null}{" "}
        / {a?.name ?? "…"} {a ? <StateBadge state={a.status} data-testid="application-status" /> : null}
      </PageTitle>
      {app.isPending ? <p className="mb-4 text-sm text-zinc-500">Loading…</p> : null}
      <ErrorNote error={app.error} />
      {a ? (
        <Card title="Source" className="mb-4">
          <dl className="grid gap-3 text-sm sm:grid-cols-3">
            <Item label="Repository" value={a.git_url ?? a.image ?? "—"} />
            <Item label="Branch" value={a.git_branch} />
            <Item label="Build" value={a.build_type} />
            <Item label="Image" value={a.current_image ?? "—"} />
            <Item label="Environment variables" value={`${Object.keys(a.environment).length} set (values hidden)`} />
          </dl>
        </Card>
      ) : null}
      <Tabs tabs={TABS} value={tab} onChange={(t) => void navigate({ search: { tab: t }, replace: true })} />
      {tab === "deployments" ? (
        <div className="grid gap-4 lg:grid-cols-[22rem_1fr]">
          <Card title="Deployments">
            {deployments.isPending ? <p className="text-sm text-zinc-500">Loading…</p> : null}
            <ErrorNote error={deployments.error} />
            {deployments.data && list.length === 0 ? <Empty>No deployment yet.</Empty> : null}
            <ul className="grid grid-cols-1 gap-1">
              {list.map((d) => (
                <li key={d.id}>
                  <DeploymentItem
                    d={d}
                    active={d.id === shown}
                    current={d.id === a?.current_deployment_id}
                    canOperate={can.operate}
                    onSelect={() => setSelected(d.id)}
                    onCancel={() => cancel.mutate(d.id)}
                    onRollback={() => rollback.mutate(d.id)}
                  />
                </li>
              ))}
            </ul>
          </Card>
          <Card title="Build log">
            {shown ? <DeploymentLog key={shown} deploymentId={shown} onEnd={refresh} /> : <Empty>Deploy to see a build log.</Empty>}
          </Card>
        </div>
      ) : null}
      {tab === "environment" ? <EnvironmentCard applicationId={id} onRedeployed={setSelected} /> : null}
      {tab === "domains" ? <DomainsCard applicationId={id} /> : null}
      {tab === "webhook" && a ? <WebhookCard app={a} /> : null}
    </>
  );
}

const Item = ({ label, value }: { label: string; value: string }) => (
  <div className="min-w-0">
    <dt className="text-xs text-zinc-500">{label}</dt>
    <dd className="truncate font-medium">{value}</dd>
  </div>
);

function DeploymentItem({
  d,
  active,
  current,
  canOperate,
  onSelect,
  onCancel,
  onRollback,
}: {
  d: Deployment;
  active: boolean;
  current: boolean;
  canOperate: boolean;
  onSelect: () => void;
  onCancel: () => void;
  onRollback: () => void;
}) {
  return (
    <div
      data-testid="deployment"
      data-id={d.id}
      data-status={d.status}
      data-active={active || undefined}
      className={`rounded-md border p-2 text-sm ${active ? "border-sky-500" : "border-zinc-200 dark:border-zinc-800"}`}
    >
      <button type="button" onClick={onSelect} className="flex w-full items-center justify-between gap-2 text-left">
        <span className="min-w-0 truncate" title={d.title}>
          {d.title}
        </span>
        <StateBadge state={d.status} />
      </button>
      <div className="mt-1 flex items-center justify-between gap-2 text-xs text-zinc-500">
        <span>
          {d.commit?.slice(0, 7) ?? "—"} · {ago(d.created_at)}
          {current ? " · running now" : ""}
        </span>
        {canOperate && ACTIVE.has(d.status) ? (
          <Button size="sm" variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
        ) : null}
        {canOperate && d.status === "succeeded" && !current && d.image_tag ? (
          <Button size="sm" variant="secondary" onClick={onRollback}>
            Roll back to this
          </Button>
        ) : null}
      </div>
      {d.error ? <p className="mt-1 text-xs text-red-600 dark:text-red-400">{d.error}</p> : null}
    </div>
  );
}

function DeploymentLog({ deploymentId, onEnd }: { deploymentId: string; onEnd: () => void }) {
  const buffer = useRef(new LogBuffer()).current;
  const [end, setEnd] = useState<string | null>(null);
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;
  useEventSource(`/api/v1/deployments/${encodeURIComponent(deploymentId)}/logs?follow=true`, {
    log: (data) => {
      const piece = JSON.parse(data) as { stream: LogStream; text: string };
      buffer.write(piece.stream, piece.text);
    },
    end: (data) => {
      const e = JSON.parse(data) as { status?: string };
      setEnd(e.status ?? "ended");
    },
  });
  useEffect(() => {
    if (end) onEndRef.current();
  }, [end]);
  return (
    <LogViewer
      buffer={buffer}
      streams={["system", "stdout", "stderr"]}
      filename={`deployment-${deploymentId}.log`}
      status={<span data-testid="deployment-log-status">{end ? `finished: ${end}` : "following"}</span>}
    />
  );
}
