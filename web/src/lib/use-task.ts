// A long-running API task (an image pull, a bulk action): read until it ends.
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "../api/client.ts";

export function useTask(taskId: string | null) {
  return useQuery({
    queryKey: ["tasks", "detail", taskId],
    queryFn: () => ok(api.GET("/api/v1/tasks/{id}", { params: { path: { id: taskId! } } })),
    enabled: !!taskId,
    // Tasks have no stream of their own yet: read every second while it runs, then stop.
    refetchInterval: (q) => (q.state.data && ["succeeded", "failed", "cancelled"].includes(q.state.data.status) ? false : 1000),
  });
}
