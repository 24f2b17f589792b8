// The notification centre: live (the layout's stream refreshes it), read/unread, clear.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";

const FILTERS = [
  { id: "all", label: "All" },
  { id: "unread", label: "Unread" },
] as const;

export function NotificationsPage() {
  const [filter, setFilter] = useState<"all" | "unread">("all");
  const qc = useQueryClient();
  const toast = useToast();
  const list = useQuery({
    queryKey: keys.notifications.list(filter),
    queryFn: () =>
      ok(
        api.GET("/api/v1/notifications", {
          params: { query: { limit: 100, ...(filter === "unread" ? { unread: "true" as const } : {}) } },
        }),
      ),
  });
  const invalidate = () => void qc.invalidateQueries({ queryKey: keys.notifications.all });
  const mark = useMutation({
    mutationFn: ({ id, read }: { id: string; read: boolean }) =>
      read
        ? ok(api.POST("/api/v1/notifications/{id}/read", { params: { path: { id } } }))
        : ok(api.POST("/api/v1/notifications/{id}/unread", { params: { path: { id } } })),
    onSuccess: invalidate,
    onError: (err) => toast.error(err),
  });
  const clear = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/api/v1/notifications/{id}", { params: { path: { id } } })),
    onSuccess: invalidate,
    onError: (err) => toast.error(err),
  });
  const readAll = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/notifications/read-all")),
    onSuccess: () => {
      toast.ok("All marked read");
      invalidate();
    },
    onError: (err) => toast.error(err),
  });
  return (
    <>
      <PageTitle
        actions={
          <Button variant="secondary" onClick={() => readAll.mutate()} busy={readAll.isPending} disabled={!list.data?.unread_count}>
            Mark all read
          </Button>
        }
      >
        Notifications {list.data?.unread_count ? <span className="text-base text-zinc-500">({list.data.unread_count} unread)</span> : null}
      </PageTitle>
      <Tabs tabs={FILTERS} value={filter} onChange={setFilter} />
      <Card>
        <ErrorNote error={list.error} />
        {list.data?.notifications.length === 0 ? <Empty>{filter === "unread" ? "All read." : "No notification yet."}</Empty> : null}
        <ul className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {list.data?.notifications.map((n) => (
            <li
              key={n.id}
              data-testid="notification"
              data-kind={n.kind}
              data-read={n.read}
              className="flex flex-wrap items-start justify-between gap-2 py-3"
            >
              <div className="min-w-0">
                <p className={`text-sm ${n.read ? "" : "font-semibold"}`}>
                  <StateBadge state={n.severity} /> {n.title}
                </p>
                <p className="text-sm text-zinc-500">{n.message}</p>
                <p className="text-xs text-zinc-500">
                  {n.kind} · {ago(n.created_at)}
                </p>
              </div>
              <div className="flex gap-1">
                <Button size="sm" variant="secondary" onClick={() => mark.mutate({ id: n.id, read: !n.read })}>
                  {n.read ? "Mark unread" : "Mark read"}
                </Button>
                <Button size="sm" variant="ghost" onClick={() => clear.mutate(n.id)}>
                  Clear
                </Button>
              </div>
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}
