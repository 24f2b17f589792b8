// The application's push webhook: its URL and secret (the API gives them to admins only), a
// rotation that makes the old ones stop working, and the log of deliveries received with the
// deployment each one started.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { Button } from "../components/ui/button.tsx";
import { Badge, Card, Empty, ErrorNote } from "../components/ui/card.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";

type Application = Schemas["Application"];

const OUTCOME_TONE: Record<string, "green" | "red" | "amber" | "gray" | "blue"> = {
  deployed: "green",
  coalesced: "blue",
  ping: "blue",
  duplicate: "gray",
  ignored: "gray",
  skipped: "gray",
  rejected: "red",
  invalid: "red",
  failed: "red",
};

function CopyButton({ text, label }: { text: string; label: string }) {
  const toast = useToast();
  return (
    <Button
      size="sm"
      variant="secondary"
      aria-label={label}
      onClick={() =>
        navigator.clipboard.writeText(text).then(
          () => toast.ok("Copied"),
          () => toast.error(new Error("The browser refused the clipboard: select the text and copy it")),
        )
      }
    >
      Copy
    </Button>
  );
}

export function WebhookCard({ app }: { app: Application }) {
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const [showSecret, setShowSecret] = useState(false);
  const rotate = useMutation({
    mutationFn: (what: "secret" | "token") =>
      ok(api.POST("/api/v1/applications/{id}/webhook/rotate", { params: { path: { id: app.id } }, body: { rotate: what } })),
    onSuccess: (_, what) => {
      toast.ok(what === "secret" ? "New secret: update it at your Git provider" : "New URL: update it at your Git provider");
      void qc.invalidateQueries({ queryKey: keys.applications.detail(app.id) });
    },
    onError: (err) => toast.error(err),
  });
  return (
    <div className="grid gap-4">
      <Card title="Push webhook">
        {app.webhook_url && app.webhook_secret ? (
          <dl className="grid gap-3 text-sm">
            <div>
              <dt className="text-xs text-zinc-500">Payload URL (GitHub, GitLab, Bitbucket)</dt>
              <dd className="mt-1 flex flex-wrap items-center gap-2">
                <code className="font-mono break-all" data-testid="webhook-url">
                  {app.webhook_url}
                </code>
                <CopyButton text={app.webhook_url} label="Copy webhook URL" />
                <Button
                  size="sm"
                  variant="ghost"
                  busy={rotate.isPending && rotate.variables === "token"}
                  onClick={() => {
                    if (window.confirm("A new URL: the current one stops working now. Continue?")) rotate.mutate("token");
                  }}
                >
                  New URL
                </Button>
              </dd>
            </div>
            <div>
              <dt className="text-xs text-zinc-500">Secret</dt>
              <dd className="mt-1 flex flex-wrap items-center gap-2">
                <code className="font-mono break-all" data-testid="webhook-secret">
                  {showSecret ? app.webhook_secret : "••••••••••••••••"}
                </code>
                <Button size="sm" variant="ghost" onClick={() => setShowSecret((s) => !s)}>
                  {showSecret ? "Hide" : "Show"}
                </Button>
                <CopyButton text={app.webhook_secret} label="Copy webhook secret" />
                <Button
                  size="sm"
                  variant="ghost"
                  busy={rotate.isPending && rotate.variables === "secret"}
                  onClick={() => {
                    if (window.confirm("A new secret: deliveries signed with the current one are refused from now on. Continue?"))
                      rotate.mutate("secret");
                  }}
                >
                  Rotate secret
                </Button>
              </dd>
            </div>
            <p className="text-zinc-500">
              GitHub: Settings → Webhooks, content type JSON, the secret above, "Just the push event". GitLab: URL and Secret token.
              Bitbucket: URL and Secret. A push to {app.git_branch} deploys.
            </p>
          </dl>
        ) : (
          <p className="text-sm text-zinc-500">
            {can.admin ? "This application has no webhook." : "Only admins and owners see the webhook's URL and secret."}
          </p>
        )}
      </Card>
      <WebhookDeliveries applicationId={app.id} />
    </div>
  );
}

function WebhookDeliveries({ applicationId: id }: { applicationId: string }) {
  const log = useQuery({
    queryKey: keys.applications.webhookDeliveries(id),
    queryFn: () => ok(api.GET("/api/v1/applications/{id}/webhook-deliveries", { params: { path: { id }, query: { limit: 50 } } })),
    // Deliveries arrive from outside and raise no event of their own: read again while the tab is open.
    refetchInterval: 10_000,
  });
  const items = log.data?.deliveries ?? [];
  return (
    <Card title="Recent deliveries">
      {log.isPending ? <p className="text-sm text-zinc-500">Loading…</p> : null}
      <ErrorNote error={log.error} />
      {log.data && items.length === 0 ? <Empty>No delivery received yet.</Empty> : null}
      {items.length ? (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-zinc-500">
              <tr>
                <th className="py-1 pr-3 font-medium">When</th>
                <th className="py-1 pr-3 font-medium">Provider</th>
                <th className="py-1 pr-3 font-medium">Event</th>
                <th className="py-1 pr-3 font-medium">Outcome</th>
                <th className="py-1 font-medium">Deployment</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
              {items.map((d) => (
                <tr key={d.id} data-testid="webhook-delivery" data-outcome={d.outcome} data-provider={d.provider} className="align-top">
                  <td className="py-1.5 pr-3 whitespace-nowrap text-zinc-500">{ago(d.created_at)}</td>
                  <td className="py-1.5 pr-3">{d.provider}</td>
                  <td className="py-1.5 pr-3">
                    {d.event ?? "—"}
                    {d.ref ? <span className="block text-xs text-zinc-500">{d.ref}</span> : null}
                  </td>
                  <td className="py-1.5 pr-3">
                    <Badge tone={OUTCOME_TONE[d.outcome] ?? "gray"}>{d.outcome}</Badge>
                    {d.verified ? null : <span className="ml-1 text-xs text-red-700 dark:text-red-400">unverified</span>}
                    {d.detail ? <span className="block text-xs text-zinc-500">{d.detail}</span> : null}
                  </td>
                  <td className="py-1.5">
                    {d.deployment_id ? (
                      <Link
                        to="/applications/$applicationId"
                        params={{ applicationId: id }}
                        search={{ tab: "deployments", deployment: d.deployment_id }}
                        className="font-mono text-sky-700 hover:underline dark:text-sky-400"
                      >
                        {d.commit?.slice(0, 7) ?? d.deployment_id}
                      </Link>
                    ) : (
                      "—"
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </Card>
  );
}
