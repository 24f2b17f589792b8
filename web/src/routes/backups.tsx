// Backups: policies (a target on a cron schedule, with retention), destinations (the Worker's R2
// bucket and S3-compatible stores, verified by the API before they are saved, secrets masked), and
// the backups and restores running now with their progress. One lazy chunk.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearch } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { useCan } from "../api/session.ts";
import { ApiForm, SecretField } from "../components/api-form.tsx";
import { HostOptions } from "../components/host-options.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Badge, Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { DataTable, RemoveButton, type TableSpec } from "../components/ui/data-table.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { Tabs } from "../components/ui/tabs.tsx";
import { ago, bytes } from "../lib/format.ts";
import { useList, useRowAction } from "../lib/use-list.ts";
import { useDatabases } from "../api/databases.ts";
import { useHostName } from "../api/hosts.ts";
import { keys } from "../api/keys.ts";

type Policy = Schemas["BackupPolicy"];
type Destination = Schemas["BackupDestination"];
type Target = Schemas["BackupTarget"];

export const backupKeys = {
  all: ["backups"] as const,
  policies: () => ["backups", "policies"] as const,
  policyRuns: (id: string) => ["backups", "policies", id, "runs"] as const,
  destinations: () => ["backups", "destinations"] as const,
  preview: (schedule: string, timezone: string) => ["backups", "schedule-preview", schedule, timezone] as const,
  running: () => ["backups", "running"] as const,
};

const TABS = [
  { id: "policies", label: "Policies" },
  { id: "destinations", label: "Destinations" },
  { id: "running", label: "Running" },
] as const;
type Tab = (typeof TABS)[number]["id"];

/** `/backups?kind=volume&host=…&ref=…`: one target's backups (the volume and database pages link here). */
export interface BackupsSearch {
  tab?: string;
  kind?: string;
  host?: string;
  ref?: string;
}

export function BackupsPage() {
  const search = useSearch({ strict: false }) as BackupsSearch;
  const navigate = useNavigate();
  const tab: Tab = TABS.some((t) => t.id === search.tab) ? (search.tab as Tab) : "policies";
  const target = targetOfSearch(search);
  if (target) return <TargetBackups target={target} />;
  return (
    <>
      <PageTitle>Backups</PageTitle>
      <Tabs tabs={TABS} value={tab} onChange={(id) => void navigate({ to: "/backups", search: { tab: id } })} />
      {tab === "policies" ? <PoliciesTab /> : tab === "destinations" ? <DestinationsTab /> : <RunningTab />}
    </>
  );
}

// ---- destinations ---------------------------------------------------------------------------

const destinationsQuery = { queryKey: backupKeys.destinations(), queryFn: () => ok(api.GET("/api/v1/backup-destinations")) };

export function useDestinations() {
  return useQuery(destinationsQuery);
}

const DESTINATIONS: TableSpec<Destination> = {
  columns: [
    {
      header: "Name",
      className: "font-medium",
      cell: (d) => (
        <>
          {d.name} {d.default ? <Badge tone="blue">default</Badge> : null} {d.encrypt ? <Badge>encrypted</Badge> : null}
        </>
      ),
    },
    {
      header: "Store",
      className: "break-all",
      cell: (d) => (d.kind === "r2" ? "The Worker's R2 bucket" : `${d.endpoint}/${d.bucket}${d.prefix ? `/${d.prefix}` : ""}`),
    },
    { header: "Secret", hideBelow: "sm", className: "font-mono", cell: (d) => d.secret_access_key ?? "—" },
    { header: "Verified", hideBelow: "md", cell: (d) => (d.verified_at ? ago(d.verified_at) : "—") },
  ],
  rowProps: (d) => ({ "data-testid": "destination-row", "data-name": d.name }),
};

function DestinationsTab() {
  const can = useCan();
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const { list, remove } = useList(destinationsQuery, {
    run: (d: Destination) => ok(api.DELETE("/api/v1/backup-destinations/{id}", { params: { path: { id: d.id } } })),
    confirm: (d) => `Remove the destination ${d.name}? The backups stored there stay in the bucket.`,
    done: () => "Destination removed",
    id: (d) => d.id,
  });
  return (
    <Card title="Destinations" actions={can.admin ? <Button onClick={() => setAdding(true)}>Add destination</Button> : null}>
      <Dialog
        open={adding}
        onOpenChange={setAdding}
        title="Add an S3-compatible destination"
        description="Pier writes, reads back and deletes a probe object with these settings before it saves them."
      >
        <AddDestination
          onDone={() => {
            setAdding(false);
            void qc.invalidateQueries({ queryKey: backupKeys.destinations() });
          }}
        />
      </Dialog>
      <DataTable
        spec={DESTINATIONS}
        state={list}
        rows={list.data?.destinations}
        actions={
          can.admin ? (d) => (d.kind === "s3" ? <RemoveButton busy={remove.busy(d)} onClick={() => remove.run(d)} /> : null) : undefined
        }
      />
    </Card>
  );
}

function AddDestination({ onDone }: { onDone: () => void }) {
  const [form, setForm] = useState({
    name: "",
    endpoint: "",
    bucket: "",
    region: "us-east-1",
    access_key_id: "",
    secret_access_key: "",
    prefix: "",
    force_path_style: true,
    encrypt: true,
  });
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));
  return (
    <ApiForm
      submit={() =>
        ok(api.POST("/api/v1/backup-destinations", { body: { ...form, name: form.name.trim(), endpoint: form.endpoint.trim() } }))
      }
      done={(d) => `${d.name} verified and saved`}
      onDone={onDone}
      action="Verify and save"
    >
      <Field label="Name">
        <Input name="name" required value={form.name} onChange={(e) => set({ name: e.target.value })} placeholder="offsite" />
      </Field>
      <Field label="Endpoint" hint="scheme, host and port of the S3 API">
        <Input
          name="endpoint"
          required
          value={form.endpoint}
          onChange={(e) => set({ endpoint: e.target.value })}
          placeholder="https://s3.eu-west-1.amazonaws.com"
        />
      </Field>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Bucket">
          <Input name="bucket" required value={form.bucket} onChange={(e) => set({ bucket: e.target.value })} />
        </Field>
        <Field label="Region">
          <Input name="region" required value={form.region} onChange={(e) => set({ region: e.target.value })} />
        </Field>
      </div>
      <Field label="Access key id">
        <Input
          name="access_key_id"
          required
          autoComplete="off"
          value={form.access_key_id}
          onChange={(e) => set({ access_key_id: e.target.value })}
        />
      </Field>
      <SecretField
        label="Secret access key"
        name="secret_access_key"
        hint="Stored sealed; only its last characters are ever shown"
        required
        value={form.secret_access_key}
        onChange={(secret_access_key) => set({ secret_access_key })}
      />
      <Field label="Path prefix" hint="Optional; keys start with <prefix>/pier/<organization>/">
        <Input name="prefix" value={form.prefix} onChange={(e) => set({ prefix: e.target.value })} />
      </Field>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={form.force_path_style} onChange={(e) => set({ force_path_style: e.target.checked })} />
        Path-style addresses (MinIO, most self-hosted stores)
      </label>
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" checked={form.encrypt} onChange={(e) => set({ encrypt: e.target.checked })} />
        Encrypt artifacts with the organization's key
      </label>
    </ApiForm>
  );
}

// ---- policies -------------------------------------------------------------------------------

/**
 * Names a backup target as the user knows it: a database's or server's name and a volume's or
 * container's host by their names, not their ids. Servers are read only where a target is one.
 */
export function useDescribeTarget(servers = false): (t: Target) => string {
  const hostName = useHostName();
  const databases = useDatabases();
  const serverList = useQuery({
    queryKey: ["servers", "names"],
    queryFn: () => ok(api.GET("/api/v1/servers", { params: { query: { limit: 200 } } })),
    enabled: servers,
  });
  return (t) =>
    t.kind === "volume"
      ? `Volume ${t.name} on ${hostName(t.host_id)}`
      : t.kind === "container"
        ? `Container ${t.id.slice(0, 12)} on ${hostName(t.host_id)}`
        : t.kind === "server"
          ? `Server ${serverList.data?.servers.find((s) => s.id === t.server_id)?.name ?? t.server_id}`
          : `Database ${databases.data?.databases.find((d) => d.id === t.database_id)?.name ?? t.database_id}`;
}

/** A destination by its name: "R2" for the Worker's bucket. */
function useDestinationName(): (id: string) => string {
  const destinations = useDestinations();
  return (id) => (id === "default" ? "R2" : (destinations.data?.destinations.find((d) => d.id === id)?.name ?? id));
}

function policyColumns(describe: (t: Target) => string, destinationName: (id: string) => string, linkTargets: boolean): TableSpec<Policy> {
  return {
    columns: [
      {
        header: "Policy",
        cell: (p) => (
          <>
            <div className="font-medium">{p.name}</div>
            <div className="text-xs text-zinc-500" data-testid="policy-target">
              {/* Its backups, and restoring one, are on the target's own page. */}
              {linkTargets ? (
                <Link to="/backups" search={targetBackupsSearch(p.target)} className="text-sky-700 hover:underline dark:text-sky-400">
                  {describe(p.target)}
                </Link>
              ) : (
                describe(p.target)
              )}{" "}
              · keep {p.keep_last ?? "all"}
              {p.max_age_days ? `, ≤ ${p.max_age_days} days` : ""} · {destinationName(p.destination_id)}
            </div>
          </>
        ),
      },
      {
        header: "Schedule",
        hideBelow: "md",
        className: "font-mono",
        cell: (p) => (
          <>
            {p.schedule} <span className="font-sans text-xs text-zinc-500">{p.timezone}</span>
          </>
        ),
      },
      {
        header: "Last run",
        cell: (p) => (
          <span data-testid="policy-last-run" title={p.last_run?.message ?? undefined}>
            {p.last_run ? (
              <>
                <StateBadge state={p.last_run.status} /> <span className="text-xs text-zinc-500">{ago(p.last_run.created_at)}</span>
              </>
            ) : (
              "—"
            )}
          </span>
        ),
      },
      {
        header: "Next run",
        hideBelow: "sm",
        cell: (p) => (p.enabled ? p.next_run_at ? new Date(p.next_run_at).toLocaleString() : "—" : <Badge>disabled</Badge>),
      },
    ],
    empty: "No backup policy yet.",
    rowProps: (p) => ({ "data-testid": "policy-row", "data-name": p.name }),
  };
}

export function PoliciesTab({ filter, fixedTarget }: { filter?: (p: Policy) => boolean; fixedTarget?: Target }) {
  const can = useCan();
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Policy | "new" | null>(null);
  const invalidates = [backupKeys.all];
  const { list, remove } = useList(
    {
      queryKey: backupKeys.policies(),
      queryFn: () => ok(api.GET("/api/v1/backup-policies")),
      // A run in progress ends on its own: follow it until it does.
      refetchInterval: (q) => (q.state.data?.policies.some((p) => p.last_run?.status === "running") ? 2000 : false),
    },
    {
      run: (p: Policy) => ok(api.DELETE("/api/v1/backup-policies/{id}", { params: { path: { id: p.id } } })),
      confirm: (p) => `Delete the policy ${p.name}? The backups it made stay.`,
      done: () => "Policy deleted",
      id: (p) => p.id,
      invalidates,
    },
  );
  const toggle = useRowAction({
    run: (p: Policy) => ok(api.PATCH("/api/v1/backup-policies/{id}", { params: { path: { id: p.id } }, body: { enabled: !p.enabled } })),
    done: (_, p) => `${p.name} ${p.enabled ? "enabled" : "disabled"}`,
    id: (p) => p.id,
    invalidates,
  });
  const runNow = useRowAction({
    run: async (p: Policy) => {
      const run = await ok(api.POST("/api/v1/backup-policies/{id}/run", { params: { path: { id: p.id } } }));
      // A run that could not start is recorded as failed: say why, as for any refused action.
      if (run?.status === "failed") throw new Error(run.message ?? "The backup could not start");
      return run;
    },
    done: () => "Backup started",
    id: (p) => p.id,
    invalidates,
  });
  const policies = list.data?.policies.filter((p) => !filter || filter(p));
  const describe = useDescribeTarget(!!policies?.some((p) => p.target.kind === "server"));
  const destinationName = useDestinationName();
  return (
    <Card title="Policies" actions={can.admin ? <Button onClick={() => setEditing("new")}>New policy</Button> : null}>
      <Dialog
        open={editing !== null}
        onOpenChange={(open) => !open && setEditing(null)}
        title={editing === "new" ? "New backup policy" : "Edit backup policy"}
        description="Backups run on the schedule, in its time zone; after each one that succeeds, retention deletes this policy's older backups."
      >
        {editing ? (
          <PolicyForm
            policy={editing === "new" ? null : editing}
            fixedTarget={fixedTarget}
            onDone={() => {
              setEditing(null);
              void qc.invalidateQueries({ queryKey: backupKeys.all });
            }}
          />
        ) : null}
      </Dialog>
      <DataTable
        spec={policyColumns(describe, destinationName, !fixedTarget)}
        state={list}
        rows={policies}
        actions={
          can.operate
            ? (p) => (
                <>
                  <Button size="sm" variant="secondary" busy={runNow.busy(p)} onClick={() => runNow.run(p)}>
                    Run now
                  </Button>
                  {can.admin ? (
                    <>
                      <Button size="sm" variant="ghost" onClick={() => setEditing(p)}>
                        Edit
                      </Button>
                      <Button size="sm" variant="ghost" busy={toggle.busy(p)} onClick={() => toggle.run(p)}>
                        {p.enabled ? "Disable" : "Enable"}
                      </Button>
                      <Button size="sm" variant="ghost" busy={remove.busy(p)} onClick={() => remove.run(p)}>
                        Delete
                      </Button>
                    </>
                  ) : null}
                </>
              )
            : undefined
        }
      />
    </Card>
  );
}

/** What the chosen host has of that kind, offered as the name field's suggestions (typing stays free). */
function TargetChoices({ hostId, kind }: { hostId: string; kind: Target["kind"] }) {
  const volumes = useQuery({
    queryKey: keys.hosts.volumes(hostId),
    queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/volumes", { params: { path: { hostId } } })),
    enabled: !!hostId && kind === "volume",
  });
  const containers = useQuery({
    queryKey: keys.hosts.containers(hostId),
    queryFn: () => ok(api.GET("/api/v1/hosts/{hostId}/containers", { params: { path: { hostId }, query: { all: "true" } } })),
    enabled: !!hostId && kind === "container",
  });
  const names =
    kind === "volume"
      ? (volumes.data?.volumes.map((v) => v.name) ?? [])
      : kind === "container"
        ? (containers.data?.containers.map((c) => c.name) ?? [])
        : [];
  return (
    <datalist id="backup-target-choices" data-testid="backup-target-choices">
      {names
        .toSorted((a, b) => a.localeCompare(b))
        .map((n) => (
          <option key={n} value={n} />
        ))}
    </datalist>
  );
}

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

/** The next runs of what is typed, from the API (croner in the Worker): what the policy will do, or croner's complaint. */
function CronHelper({ schedule, timezone }: { schedule: string; timezone: string }) {
  const [typed, setTyped] = useState({ schedule, timezone });
  useEffect(() => {
    const t = setTimeout(() => setTyped({ schedule, timezone }), 300);
    return () => clearTimeout(t);
  }, [schedule, timezone]);
  const preview = useQuery({
    queryKey: backupKeys.preview(typed.schedule, typed.timezone),
    queryFn: () =>
      ok(
        api.GET("/api/v1/backup-policies/schedule-preview", {
          params: { query: { schedule: typed.schedule, timezone: typed.timezone, count: 3 } },
        }),
      ),
    enabled: typed.schedule.trim().length > 0 && typed.timezone.trim().length > 0,
    retry: false,
  });
  if (preview.error) return <ErrorNote error={preview.error} />;
  if (!preview.data) return null;
  return (
    <div className="text-xs text-zinc-500" data-testid="cron-next-runs">
      Next runs:{" "}
      {preview.data.next_runs.map((at) => (
        <span key={at} className="mr-2 inline-block">
          {new Date(at).toLocaleString()}
        </span>
      ))}
    </div>
  );
}

const PRESETS = [
  { label: "Nightly 03:00", value: "0 3 * * *" },
  { label: "Hourly", value: "0 * * * *" },
  { label: "Weekly, Sunday 02:00", value: "0 2 * * 0" },
] as const;

function PolicyForm({ policy, fixedTarget, onDone }: { policy: Policy | null; fixedTarget?: Target; onDone: () => void }) {
  const destinations = useDestinations();
  const databases = useDatabases();
  const initial = policy?.target ?? fixedTarget;
  const [kind, setKind] = useState<Target["kind"]>(initial?.kind ?? "volume");
  const [hostId, setHostId] = useState(initial && "host_id" in initial ? initial.host_id : "");
  const [ref, setRef] = useState(initial ? targetIdOf(initial) : "");
  const [name, setName] = useState(policy?.name ?? "");
  const [schedule, setSchedule] = useState(policy?.schedule ?? "0 3 * * *");
  const [timezone, setTimezone] = useState(policy?.timezone ?? browserZone());
  const [keepLast, setKeepLast] = useState(policy ? (policy.keep_last?.toString() ?? "") : "7");
  const [maxAge, setMaxAge] = useState(policy?.max_age_days?.toString() ?? "");
  const [destinationId, setDestinationId] = useState(policy?.destination_id ?? "default");
  const [notify, setNotify] = useState<string[]>(policy?.notify ?? ["backup.failed"]);
  const numberOrNull = (s: string) => (s.trim() === "" ? null : Number(s));
  const settings = {
    schedule,
    timezone,
    keep_last: numberOrNull(keepLast),
    max_age_days: numberOrNull(maxAge),
    destination_id: destinationId,
    notify: notify as ("backup.succeeded" | "backup.failed")[],
  };
  const target = (): Target =>
    kind === "volume"
      ? { kind, host_id: hostId, name: ref.trim() }
      : kind === "container"
        ? { kind, host_id: hostId, id: ref.trim() }
        : kind === "server"
          ? { kind, server_id: ref }
          : { kind, database_id: ref };
  const save = () =>
    policy
      ? ok(
          api.PATCH("/api/v1/backup-policies/{id}", {
            params: { path: { id: policy.id } },
            body: { ...settings, ...(name ? { name } : {}) },
          }),
        )
      : ok(api.POST("/api/v1/backup-policies", { body: { ...settings, target: target(), ...(name ? { name } : {}) } }));
  const locked = !!policy || !!fixedTarget;
  return (
    <ApiForm submit={save} done={(p) => `${p.name} saved`} onDone={onDone} action={policy ? "Save" : "Create policy"}>
      <fieldset disabled={locked} className="grid gap-3">
        <Field label="What to back up">
          <Select name="target_kind" value={kind} onChange={(e) => setKind(e.target.value as Target["kind"])}>
            <option value="volume">A volume</option>
            <option value="database">A database service</option>
            <option value="container">A container</option>
          </Select>
        </Field>
        {kind === "database" ? (
          <Field label="Database service">
            <Select name="database_id" required value={ref} onChange={(e) => setRef(e.target.value)}>
              <option value="">Choose…</option>
              {databases.data?.databases.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name} ({d.engine})
                </option>
              ))}
              {/* A database gone since the policy was made still shows what the policy names. */}
              {policy && !databases.data?.databases.some((d) => d.id === ref) ? <option value={ref}>{ref}</option> : null}
            </Select>
          </Field>
        ) : (
          <div className="grid gap-3 sm:grid-cols-2">
            <Field label="Host">
              <Select name="host_id" required value={hostId} onChange={(e) => setHostId(e.target.value)}>
                <option value="">Choose…</option>
                <HostOptions />
              </Select>
            </Field>
            <Field label={kind === "volume" ? "Volume name" : "Container id or name"}>
              <Input name="target_ref" required list="backup-target-choices" value={ref} onChange={(e) => setRef(e.target.value)} />
            </Field>
            <TargetChoices hostId={locked ? "" : hostId} kind={kind} />
          </div>
        )}
      </fieldset>
      <Field label="Name" hint="Optional; by default the target's description">
        <Input name="name" value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Schedule (cron)" hint="minute hour day-of-month month day-of-week">
          <Input name="schedule" required className="font-mono" value={schedule} onChange={(e) => setSchedule(e.target.value)} />
        </Field>
        <Field label="Time zone">
          <Input name="timezone" required value={timezone} onChange={(e) => setTimezone(e.target.value)} />
        </Field>
      </div>
      <div className="flex flex-wrap gap-1">
        {PRESETS.map((p) => (
          <Button key={p.value} type="button" size="sm" variant="ghost" onClick={() => setSchedule(p.value)}>
            {p.label}
          </Button>
        ))}
      </div>
      <CronHelper schedule={schedule} timezone={timezone} />
      <div className="grid gap-3 sm:grid-cols-2">
        <Field label="Keep the newest" hint="Empty: no limit by count">
          <Input name="keep_last" type="number" min={1} value={keepLast} onChange={(e) => setKeepLast(e.target.value)} />
        </Field>
        <Field label="Delete after (days)" hint="Empty: no limit by age">
          <Input name="max_age_days" type="number" min={1} value={maxAge} onChange={(e) => setMaxAge(e.target.value)} />
        </Field>
      </div>
      <Field label="Destination">
        <Select name="destination_id" value={destinationId} onChange={(e) => setDestinationId(e.target.value)}>
          {destinations.data?.destinations.map((d: Destination) => (
            <option key={d.id} value={d.id}>
              {d.name}
            </option>
          )) ?? <option value="default">The Worker's R2 bucket</option>}
        </Select>
      </Field>
      <div className="flex flex-wrap gap-4 text-sm">
        {(["backup.succeeded", "backup.failed"] as const).map((k) => (
          <label key={k} className="flex items-center gap-2">
            <input
              type="checkbox"
              name={k}
              checked={notify.includes(k)}
              onChange={(e) => setNotify((n) => (e.target.checked ? [...n, k] : n.filter((x) => x !== k)))}
            />
            Notify {k === "backup.succeeded" ? "successes" : "failures"}
          </label>
        ))}
      </div>
    </ApiForm>
  );
}

// ---- running --------------------------------------------------------------------------------

const ACTIVE = (status: string) => status === "running" || status === "queued";

/** Backups and restores in progress, followed while any runs. */
export function RunningTab() {
  const kinds = ["backup", "restore"] as const;
  const running = useQuery({
    queryKey: backupKeys.running(),
    queryFn: async () => {
      const pages = await Promise.all(kinds.map((kind) => ok(api.GET("/api/v1/tasks", { params: { query: { kind, limit: 20 } } }))));
      return pages.flatMap((p) => p.tasks).sort((a, b) => b.created_at.localeCompare(a.created_at));
    },
    refetchInterval: (q) => (q.state.data?.some((t) => ACTIVE(t.status)) ? 1000 : 5000),
  });
  return (
    <Card title="Backups and restores">
      <ErrorNote error={running.error} />
      {running.data?.length === 0 ? <Empty>No backup or restore has run yet.</Empty> : null}
      <ul className="divide-y divide-zinc-200 dark:divide-zinc-800">
        {running.data?.map((t) => (
          <li key={t.id} className="grid gap-1 py-2 text-sm" data-testid="backup-task" data-status={t.status} data-kind={t.kind}>
            <div className="flex items-center gap-2">
              <span className="font-medium">{t.kind === "backup" ? "Backup" : "Restore"}</span>
              <StateBadge state={t.status} />
              <span className="text-xs text-zinc-500">{ago(t.created_at)}</span>
            </div>
            {ACTIVE(t.status) ? (
              <progress max={100} value={t.progress} className="h-2 w-full max-w-md" aria-label={`${Math.round(t.progress)} %`} />
            ) : null}
            {t.message ? <div className="text-xs break-words text-zinc-500">{t.message}</div> : null}
          </li>
        ))}
      </ul>
    </Card>
  );
}

// ---- one target's backups, with restore -----------------------------------------------------

type Backup = Schemas["Backup"];

function targetOfSearch(s: BackupsSearch): Target | null {
  if (!s.ref) return null;
  if (s.kind === "database") return { kind: "database", database_id: s.ref };
  if (s.kind === "server") return { kind: "server", server_id: s.ref };
  if (!s.host) return null;
  if (s.kind === "volume") return { kind: "volume", host_id: s.host, name: s.ref };
  if (s.kind === "container") return { kind: "container", host_id: s.host, id: s.ref };
  return null;
}

const targetIdOf = (t: Target) =>
  t.kind === "volume" ? t.name : t.kind === "container" ? t.id : t.kind === "server" ? t.server_id : t.database_id;

/** The link to a target's backups, for the volume, container and database pages. */
export const targetBackupsSearch = (t: Target): BackupsSearch =>
  "host_id" in t ? { kind: t.kind, host: t.host_id, ref: targetIdOf(t) } : { kind: t.kind, ref: targetIdOf(t) };

function TargetBackups({ target }: { target: Target }) {
  const can = useCan();
  const qc = useQueryClient();
  const [restoring, setRestoring] = useState<Backup | null>(null);
  const label = useDescribeTarget(target.kind === "server")(target);
  const destinationName = useDestinationName();
  const list = useQuery({
    queryKey: [...backupKeys.all, "target", target],
    queryFn: () =>
      ok(
        api.GET("/api/v1/backups", {
          params: {
            query: {
              target_kind: target.kind,
              target_id: targetIdOf(target),
              ...("host_id" in target ? { host_id: target.host_id } : {}),
              limit: 100,
            },
          },
        }),
      ),
    refetchInterval: (q) => (q.state.data?.backups.some((b) => b.status === "running") ? 1000 : false),
  });
  const backupNow = useRowAction({
    run: (t: Target) => ok(api.POST("/api/v1/backups", { body: { target: t } })),
    done: () => "Backup started",
    invalidates: [backupKeys.all],
  });
  return (
    <>
      <PageTitle
        actions={
          can.operate ? (
            <Button busy={backupNow.pending} onClick={() => backupNow.run(target)}>
              Back up now
            </Button>
          ) : null
        }
      >
        Backups of {label}
      </PageTitle>
      <div className="grid gap-4">
        <PoliciesTab fixedTarget={target} filter={(p) => JSON.stringify(p.target) === JSON.stringify(target)} />
        <Card title="Backups">
          <Dialog
            open={restoring !== null}
            onOpenChange={(open) => !open && setRestoring(null)}
            title="Restore a backup"
            description={restoring ? `From ${new Date(restoring.created_at).toLocaleString()} (${restoring.target.label})` : undefined}
          >
            {restoring ? (
              <RestoreForm
                backup={restoring}
                target={target}
                label={label}
                onDone={() => {
                  setRestoring(null);
                  void qc.invalidateQueries({ queryKey: backupKeys.all });
                }}
              />
            ) : null}
          </Dialog>
          <ErrorNote error={list.error} />
          {list.data?.backups.length === 0 ? <Empty>No backup of this target yet.</Empty> : null}
          <ul className="divide-y divide-zinc-200 dark:divide-zinc-800">
            {list.data?.backups.map((b) => (
              <li key={b.id} className="flex flex-wrap items-center gap-2 py-2 text-sm" data-testid="backup-row" data-status={b.status}>
                <StateBadge state={b.status} />
                <span className="font-medium">{new Date(b.created_at).toLocaleString()}</span>
                <span className="text-xs text-zinc-500">
                  {b.format} · {bytes(b.size_bytes)} · {destinationName(b.destination_id)}
                  {b.policy_id ? " · by policy" : ""}
                  {b.imported ? " · found by a scan" : ""}
                </span>
                {b.error ? <span className="w-full text-xs text-red-600">{b.error}</span> : null}
                {can.admin && b.status === "succeeded" ? (
                  <span className="ml-auto">
                    <Button size="sm" variant="secondary" onClick={() => setRestoring(b)}>
                      Restore
                    </Button>
                  </span>
                ) : null}
              </li>
            ))}
          </ul>
        </Card>
        <RunningTab />
      </div>
    </>
  );
}

function RestoreForm({ backup, target, label, onDone }: { backup: Backup; target: Target; label: string; onDone: () => void }) {
  const hostName = useHostName();
  const [mode, setMode] = useState<"same" | "new">("same");
  const [name, setName] = useState(`${targetIdOf(target).slice(0, 40)}-restored`);
  const [hostId, setHostId] = useState("host_id" in target ? target.host_id : "");
  const restore = () =>
    ok(
      api.POST("/api/v1/backups/{id}/restore", {
        params: { path: { id: backup.id } },
        body: { into: mode === "same" ? { kind: "same" } : { kind: "new", name: name.trim(), ...(hostId ? { host_id: hostId } : {}) } },
      }),
    );
  const replaced =
    mode === "same"
      ? `This replaces the current data of ${label} with the backup of ${new Date(backup.created_at).toLocaleString()}. Its users are stopped while it runs; the current data is kept as a safety copy until the restore succeeds.`
      : `This creates ${name.trim() || "a new target"} on ${hostId ? hostName(hostId) : "the same host"}; ${label} is not touched.`;
  return (
    <ApiForm
      submit={restore}
      confirm={() => replaced}
      done={() => "Restore started"}
      onDone={onDone}
      action="Restore"
      variant={mode === "same" ? "danger" : "primary"}
    >
      <fieldset className="grid gap-2 text-sm">
        <label className="flex items-center gap-2">
          <input type="radio" name="into" value="same" checked={mode === "same"} onChange={() => setMode("same")} />
          Into {label} (replaces its data)
        </label>
        <label className="flex items-center gap-2">
          <input type="radio" name="into" value="new" checked={mode === "new"} onChange={() => setMode("new")} />
          Into a new {target.kind}, on this or another host
        </label>
      </fieldset>
      {mode === "new" ? (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label="New name">
            <Input name="restore_name" required value={name} onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field label="Host">
            <Select name="restore_host" value={hostId} onChange={(e) => setHostId(e.target.value)}>
              {target.kind === "database" ? <option value="">The service's host</option> : null}
              <HostOptions status />
            </Select>
          </Field>
        </div>
      ) : null}
      <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="restore-replaces">
        {replaced}
      </p>
    </ApiForm>
  );
}
