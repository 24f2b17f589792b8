// A task the screen just started (a bulk action, a create, a recreate), followed until it ends:
// its kind, state, progress and message, and what it did to each item when it says so. When it
// ends, `onEnd` runs once (to read the lists it changed again).
import { ENDED_STATUSES, useTask, useTaskEnd } from "../lib/use-task.ts";
import { Button } from "./ui/button.tsx";
import { StateBadge } from "./ui/card.tsx";

interface Item {
  server_id?: string;
  id?: string;
  name?: string;
  ok?: boolean;
  error?: string;
}

export function TaskProgress({
  taskId,
  label,
  onEnd,
  onClose,
}: {
  taskId: string;
  label: string;
  onEnd?: () => void;
  onClose?: () => void;
}) {
  const task = useTask(taskId);
  const t = task.data;
  const ended = !!t && ENDED_STATUSES.includes(t.status);
  useTaskEnd(t, () => onEnd?.());
  const items = (Array.isArray(t?.result?.items) ? t.result.items : []) as Item[];
  const failed = items.filter((i) => i.ok === false);
  return (
    <div
      data-testid="task-progress"
      data-status={t?.status ?? "queued"}
      className="mb-4 grid gap-1 rounded-md border border-zinc-200 px-3 py-2 text-sm dark:border-zinc-800"
    >
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium">{label}</span>
        <StateBadge state={t?.status ?? "queued"} />
        <progress max={100} value={t?.progress ?? 0} className="h-2 w-32" aria-label={`${Math.round(t?.progress ?? 0)} %`} />
        {ended && onClose ? (
          <Button size="sm" variant="ghost" className="ml-auto" onClick={onClose}>
            Dismiss
          </Button>
        ) : null}
      </div>
      {t?.message ? <p className="text-zinc-500">{t.message}</p> : null}
      {task.error ? <p className="text-red-700 dark:text-red-400">{String(task.error)}</p> : null}
      {failed.length ? (
        <ul className="text-red-700 dark:text-red-400">
          {failed.map((i) => (
            <li key={i.server_id ?? i.id ?? i.name}>
              {i.name ?? i.id}: {i.error ?? "failed"}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
