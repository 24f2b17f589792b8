import type { InputHTMLAttributes, SelectHTMLAttributes, TextareaHTMLAttributes } from "react";
import { cn } from "../../lib/cn.ts";

const FIELD = "h-9 rounded-md border border-zinc-300 bg-white px-3 text-sm placeholder:text-zinc-400 dark:border-zinc-700 dark:bg-zinc-900";

/**
 * A field's classes: full width unless the caller gives a width. Both would be on the element and
 * the stylesheet, not the class order, decides: `w-full` comes after `w-36` there, so a caller's
 * width was silently ignored (the containers' state filter stretched across the page).
 */
const field = (className: string | undefined, ...extra: string[]) =>
  cn(FIELD, /(^|\s)w-/.test(className ?? "") ? undefined : "w-full", ...extra, className);

export function Input({ className, ...rest }: InputHTMLAttributes<HTMLInputElement>) {
  return <input {...rest} className={field(className)} />;
}

export function Select({ className, ...rest }: SelectHTMLAttributes<HTMLSelectElement>) {
  return <select {...rest} className={field(className, "pr-8")} />;
}

/** Several lines of code-like text: commands, KEY=value lines. */
export function CodeArea({ className, rows = 3, ...rest }: TextareaHTMLAttributes<HTMLTextAreaElement>) {
  return (
    <textarea
      {...rest}
      rows={rows}
      className={cn(
        "w-full rounded-md border border-zinc-300 bg-white px-3 py-2 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-900",
        className,
      )}
    />
  );
}

/** A labelled control; `error` is the API's message about this field, shown in place of the hint. */
export function Field({ label, children, hint, error }: { label: string; children: React.ReactNode; hint?: string; error?: string }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is the child passed in
    <label className="grid gap-1 text-sm">
      <span className="font-medium">{label}</span>
      {children}
      {error ? (
        <span role="alert" className="text-xs text-red-700 dark:text-red-400">
          {error}
        </span>
      ) : hint ? (
        <span className="text-xs text-zinc-500">{hint}</span>
      ) : null}
    </label>
  );
}

/**
 * KEY=value lines for a server's or a role's environment. Lines that are not KEY=value are named
 * here before anything is sent (`rejected`, from lib/env-edit.ts's parseEnvLines); otherwise the
 * API's complaint about `env` shows.
 */
export function EnvLinesField({
  hint,
  value,
  onChange,
  rejected,
  apiError,
}: {
  hint: string;
  value: string;
  onChange: (text: string) => void;
  rejected: string[];
  apiError?: string;
}) {
  return (
    <Field label="Environment" hint={hint} error={rejected.length ? `Not KEY=value: ${rejected.join(", ")}` : apiError}>
      <CodeArea name="env" value={value} onChange={(e) => onChange(e.target.value)} />
    </Field>
  );
}
