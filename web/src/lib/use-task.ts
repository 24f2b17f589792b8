// A long-running API task (an image pull, a bulk action): read until it ends.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { api, ok, type Schemas } from "../api/client.ts";

type Task = Schemas["Task"];

export const ENDED_STATUSES: readonly string[] = ["succeeded", "failed", "cancelled"];

export function useTask(taskId: string | null) {
  return useQuery({
    queryKey: ["tasks", "detail", taskId],
    queryFn: () => ok(api.GET("/api/v1/tasks/{id}", { params: { path: { id: taskId! } } })),
    enabled: !!taskId,
    // Tasks have no stream of their own yet: read every second while it runs, then stop.
    refetchInterval: (q) => (q.state.data && ENDED_STATUSES.includes(q.state.data.status) ? false : 1000),
  });
}

/**
 * Runs `onEnd` once for each task that reaches a final status: a toast and a re-read of what it
 * changed, never again on a later render (an effect that names its callbacks would repeat them).
 */
export function useTaskEnd(task: Task | undefined, onEnd: (task: Task) => void): void {
  const handled = useRef<string | null>(null);
  const latest = useRef(onEnd);
  latest.current = onEnd;
  const ended = !!task && ENDED_STATUSES.includes(task.status);
  useEffect(() => {
    if (task && ended && handled.current !== task.id) {
      handled.current = task.id;
      latest.current(task);
    }
  }, [ended, task]);
}
