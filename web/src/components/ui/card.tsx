import type { ReactNode } from "react";
import { cn } from "../../lib/cn.ts";

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={cn("rounded-lg border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900", className)}>
      {title || actions ? (
        <header className="flex flex-wrap items-center justify-between gap-2 border-b border-zinc-200 px-4 py-2.5 dark:border-zinc-800">
          <h2 className="text-sm font-semibold">{title}</h2>
          <div className="flex flex-wrap gap-2">{actions}</div>
        </header>
      ) : null}
      <div className="p-4">{children}</div>
    </section>
  );
}

const TONES = {
  green: "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/50 dark:text-emerald-300",
  red: "bg-red-100 text-red-800 dark:bg-red-900/50 dark:text-red-300",
  amber: "bg-amber-100 text-amber-800 dark:bg-amber-900/50 dark:text-amber-300",
  gray: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
  blue: "bg-sky-100 text-sky-800 dark:bg-sky-900/50 dark:text-sky-300",
};

export function Badge({
  tone = "gray",
  children,
  ...rest
}: { tone?: keyof typeof TONES; children: ReactNode } & React.HTMLAttributes<HTMLSpanElement>) {
  return (
    <span {...rest} className={cn("inline-flex items-center rounded px-1.5 py-0.5 text-xs font-medium", TONES[tone])}>
      {children}
    </span>
  );
}

const STATE_TONE: Record<string, keyof typeof TONES> = {
  online: "green",
  running: "green",
  succeeded: "green",
  success: "green",
  disconnected: "amber",
  paused: "amber",
  restarting: "amber",
  queued: "blue",
  building: "blue",
  deploying: "blue",
  created: "blue",
  creating: "blue",
  deleting: "amber",
  stopped: "gray",
  applied: "green",
  info: "blue",
  warning: "amber",
  lost: "red",
  exited: "red",
  dead: "red",
  failed: "red",
  error: "red",
  firing: "red",
  open: "red",
};

export function StateBadge({ state, ...rest }: { state: string } & React.HTMLAttributes<HTMLSpanElement>) {
  return (
    <Badge tone={STATE_TONE[state] ?? "gray"} data-state={state} {...rest}>
      {state.replaceAll("_", " ")}
    </Badge>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="py-6 text-center text-sm text-zinc-500">{children}</p>;
}

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof Error ? error.message : String(error);
  return (
    <p
      role="alert"
      className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-300"
    >
      {text}
    </p>
  );
}
