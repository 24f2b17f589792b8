// Tasks (image pulls, bulk actions, deployments) with progress and cancel.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { Select } from "../components/ui/input.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";

const STATUSES = ["all", "queued", "running", "succeeded", "failed", "cancelled"] as const;

export function TasksPage() {
  const [status, setStatus] = useState<(typeof STATUSES)[number]>("all");
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const tasks = useQuery({
    queryKey: keys.tasks.list(status),
    queryFn: () => ok(api.GET("/api/v1/tasks", { params: { query: { limit: 100, ...(status === "all" ? {} : { status }) } } })),
    // Tasks have no stream of their own: follow running ones by reading again.
    refetchInterval: (q) => (q.state.data?.tasks.some((t) => t.status === "running" || t.status === "queued") ? 2000 : false),
  });
  const cancel = useMutation({
    mutationFn: (id: string) => ok(api.POST("/api/v1/tasks/{id}/cancel", { params: { path: { id } } })),
    onSuccess: () => {
      toast.ok("Cancel requested");
      void qc.invalidateQueries({ queryKey: keys.tasks.all });
    },
    onError: (err) => toast.error(err),
  });
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
        <ErrorNote error={tasks.error} />
        {tasks.data?.tasks.length === 0 ? <Empty>No task.</Empty> : null}
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-zinc-500 uppercase">
              <tr>
                <th className="py-2 pr-3">Kind</th>
                <th className="py-2 pr-3">State</th>
                <th className="py-2 pr-3">Progress</th>
                <th className="hidden py-2 pr-3 md:table-cell">Message</th>
                <th className="hidden py-2 pr-3 sm:table-cell">Created</th>
                {can.operate ? <th className="py-2" /> : null}
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
              {tasks.data?.tasks.map((t) => (
                <tr key={t.id}>
                  <td className="py-2 pr-3">{t.kind}</td>
                  <td className="py-2 pr-3">
                    <StateBadge state={t.status} />
                  </td>
                  <td className="py-2 pr-3">
                    <progress max={100} value={t.progress} className="h-2 w-24" aria-label={`${Math.round(t.progress)} %`} />
                  </td>
                  <td className="hidden max-w-[24rem] truncate py-2 pr-3 md:table-cell">{t.message ?? "—"}</td>
                  <td className="hidden py-2 pr-3 sm:table-cell">{ago(t.created_at)}</td>
                  {can.operate ? (
                    <td className="py-2 text-right">
                      {t.status === "running" || t.status === "queued" ? (
                        <Button
                          size="sm"
                          variant="secondary"
                          busy={cancel.isPending && cancel.variables === t.id}
                          onClick={() => cancel.mutate(t.id)}
                        >
                          Cancel
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
    </>
  );
}
