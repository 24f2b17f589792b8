// An application's environment variables. Everyone who can read the application sees the names,
// values masked; owners and admins can reveal the values (the API audits every reveal) and change
// them. Editing starts from the revealed values because the API replaces the whole set (PUT): a
// masked value sent back would overwrite the secret with its mask. Changes apply at the next
// deployment, hence "Save and redeploy".
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { Button } from "../components/ui/button.tsx";
import { Card, Empty, ErrorNote } from "../components/ui/card.tsx";
import { CodeArea, Field, Input } from "../components/ui/input.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { diffEnv, duplicateKeys, type EnvRow, isEmptyDiff, mergeRows, parseEnvLines, rowsToEnv } from "../lib/env-edit.ts";

export function EnvironmentCard({
  applicationId: id,
  onRedeployed,
}: {
  applicationId: string;
  onRedeployed: (deploymentId: string) => void;
}) {
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const masked = useQuery({
    queryKey: keys.applications.environment(id),
    queryFn: () => ok(api.GET("/api/v1/applications/{id}/environment", { params: { path: { id } } })),
  });
  // Revealed values live only in this component, never in the shared cache: leaving the page forgets them.
  const [revealed, setRevealed] = useState<Record<string, string> | null>(null);
  const [rows, setRows] = useState<EnvRow[] | null>(null);
  const [reviewing, setReviewing] = useState(false);

  const reveal = useMutation({
    mutationFn: () => ok(api.GET("/api/v1/applications/{id}/environment", { params: { path: { id }, query: { reveal: "true" } } })),
    onSuccess: (env) => setRevealed(env.environment),
    onError: (err) => toast.error(err),
  });
  const startEditing = async () => {
    const values = revealed ?? (await reveal.mutateAsync().catch(() => null))?.environment;
    if (!values) return;
    setRevealed(values);
    setRows(Object.entries(values).map(([key, value]) => ({ key, value })));
    setReviewing(false);
  };
  const save = useMutation({
    mutationFn: async ({ redeploy }: { redeploy: boolean }) => {
      const env = await ok(
        api.PUT("/api/v1/applications/{id}/environment", { params: { path: { id } }, body: { environment: rowsToEnv(rows ?? []) } }),
      );
      const deployment = redeploy
        ? await ok(api.POST("/api/v1/applications/{id}/deployments", { params: { path: { id } }, body: {} }))
        : null;
      return { env, deployment };
    },
    onSuccess: ({ deployment }) => {
      toast.ok(deployment ? "Environment saved; deployment queued" : "Environment saved: it applies at the next deployment");
      setRows(null);
      setRevealed(null);
      setReviewing(false);
      void qc.invalidateQueries({ queryKey: keys.applications.environment(id) });
      void qc.invalidateQueries({ queryKey: keys.applications.detail(id) });
      if (deployment) {
        void qc.invalidateQueries({ queryKey: keys.applications.deployments(id) });
        onRedeployed(deployment.id);
      }
    },
  });

  const names = Object.keys(masked.data?.environment ?? {});
  const editing = rows !== null;
  return (
    <Card
      title="Environment variables"
      actions={
        can.admin && !editing && masked.data ? (
          <>
            {revealed ? (
              <Button size="sm" variant="ghost" onClick={() => setRevealed(null)}>
                Hide values
              </Button>
            ) : (
              <Button size="sm" variant="ghost" busy={reveal.isPending} disabled={names.length === 0} onClick={() => reveal.mutate()}>
                Reveal values
              </Button>
            )}
            <Button size="sm" onClick={() => void startEditing()}>
              Edit
            </Button>
          </>
        ) : null
      }
    >
      <p className="mb-3 text-sm text-zinc-500">
        Changes take effect at the next deployment.{" "}
        {can.admin ? "Revealing values is recorded in the audit log." : "Only admins and owners can see or change the values."}
      </p>
      {masked.isPending ? <p className="text-sm text-zinc-500">Loading…</p> : null}
      <ErrorNote error={masked.error} />
      {editing ? (
        <EnvEditor
          rows={rows}
          setRows={setRows}
          before={revealed ?? {}}
          reviewing={reviewing}
          setReviewing={setReviewing}
          saving={save.isPending ? (save.variables.redeploy ? "redeploy" : "save") : null}
          error={save.error}
          onSave={(redeploy) => save.mutate({ redeploy })}
          onCancel={() => {
            setRows(null);
            save.reset();
          }}
        />
      ) : masked.data && names.length === 0 ? (
        <Empty>No environment variable yet.</Empty>
      ) : (
        <dl className="grid gap-x-4 gap-y-1 font-mono text-sm sm:grid-cols-[max-content_1fr]">
          {names.map((k) => (
            <div key={k} className="contents" data-testid="env-var" data-key={k}>
              <dt className="font-medium break-all">{k}</dt>
              <dd className="break-all text-zinc-600 dark:text-zinc-400" data-testid="env-value">
                {revealed ? revealed[k] : masked.data?.environment[k]}
              </dd>
            </div>
          ))}
        </dl>
      )}
    </Card>
  );
}

function EnvEditor({
  rows,
  setRows,
  before,
  reviewing,
  setReviewing,
  saving,
  error,
  onSave,
  onCancel,
}: {
  rows: EnvRow[];
  setRows: (rows: EnvRow[]) => void;
  before: Record<string, string>;
  reviewing: boolean;
  setReviewing: (r: boolean) => void;
  saving: "save" | "redeploy" | null;
  error: unknown;
  onSave: (redeploy: boolean) => void;
  onCancel: () => void;
}) {
  const [paste, setPaste] = useState("");
  const [rejected, setRejected] = useState<string[]>([]);
  const diff = diffEnv(before, rowsToEnv(rows));
  const dups = duplicateKeys(rows);
  const update = (i: number, patch: Partial<EnvRow>) => {
    setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
    setReviewing(false);
  };
  const addPasted = () => {
    const parsed = parseEnvLines(paste);
    setRows(mergeRows(rows, parsed.rows));
    setRejected(parsed.rejected);
    if (parsed.rejected.length === 0) setPaste("");
    setReviewing(false);
  };
  return (
    <div className="grid gap-3" data-testid="env-editor">
      <div className="grid gap-2">
        {rows.map((r, i) => (
          // Rows have no identity but their position while being edited.
          // biome-ignore lint/suspicious/noArrayIndexKey: see above
          <div key={i} className="grid grid-cols-[1fr_1.5fr_auto] gap-2" data-testid="env-row">
            <Input
              aria-label={`Name ${i + 1}`}
              value={r.key}
              placeholder="NAME"
              className="font-mono"
              onChange={(e) => update(i, { key: e.target.value })}
            />
            <Input
              aria-label={`Value ${i + 1}`}
              value={r.value}
              placeholder="value"
              className="font-mono"
              onChange={(e) => update(i, { value: e.target.value })}
            />
            <Button
              variant="ghost"
              aria-label={`Remove ${r.key || `row ${i + 1}`}`}
              onClick={() => {
                setRows(rows.filter((_, j) => j !== i));
                setReviewing(false);
              }}
            >
              Remove
            </Button>
          </div>
        ))}
        <div>
          <Button size="sm" variant="secondary" onClick={() => setRows([...rows, { key: "", value: "" }])}>
            Add variable
          </Button>
        </div>
      </div>
      <Field label="Paste KEY=VALUE lines">
        <CodeArea value={paste} onChange={(e) => setPaste(e.target.value)} placeholder={"DATABASE_URL=postgres://…\nexport API_KEY=…"} />
      </Field>
      <div>
        <Button size="sm" variant="secondary" disabled={!paste.trim()} onClick={addPasted}>
          Add pasted lines
        </Button>
      </div>
      {rejected.length ? (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          Not KEY=VALUE, left out: {rejected.join(" · ")}
        </p>
      ) : null}
      {dups.length ? (
        <p role="alert" className="text-sm text-amber-700 dark:text-amber-400">
          Named twice (the last value wins): {dups.join(", ")}
        </p>
      ) : null}
      {reviewing ? (
        <div className="rounded-md border border-zinc-200 p-3 text-sm dark:border-zinc-800" data-testid="env-diff">
          {isEmptyDiff(diff) ? (
            <p>Nothing changed.</p>
          ) : (
            <ul className="grid gap-1 font-mono">
              {diff.added.map((k) => (
                <li key={`+${k}`} data-change="added" className="text-emerald-700 dark:text-emerald-400">
                  + {k} (added)
                </li>
              ))}
              {diff.changed.map((k) => (
                <li key={`~${k}`} data-change="changed" className="text-amber-700 dark:text-amber-400">
                  ~ {k} (changed)
                </li>
              ))}
              {diff.removed.map((k) => (
                <li key={`-${k}`} data-change="removed" className="text-red-700 dark:text-red-400">
                  − {k} (removed)
                </li>
              ))}
            </ul>
          )}
          <p className="mt-2 text-zinc-500">The running container keeps its current environment until the next deployment.</p>
        </div>
      ) : null}
      <ErrorNote error={error} />
      <div className="flex flex-wrap justify-end gap-2">
        <Button variant="ghost" onClick={onCancel}>
          Cancel
        </Button>
        {reviewing ? (
          <>
            <Button
              variant="secondary"
              busy={saving === "save"}
              disabled={saving !== null || isEmptyDiff(diff)}
              onClick={() => onSave(false)}
            >
              Save
            </Button>
            <Button busy={saving === "redeploy"} disabled={saving !== null || isEmptyDiff(diff)} onClick={() => onSave(true)}>
              Save and redeploy
            </Button>
          </>
        ) : (
          <Button onClick={() => setReviewing(true)}>Review changes</Button>
        )}
      </div>
    </div>
  );
}
