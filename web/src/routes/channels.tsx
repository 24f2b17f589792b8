// Notification channels: where notifications are delivered outside Pier. Secrets come back masked
// and are typed into password fields; editing sends only the fields changed, so a secret left
// masked keeps its value. A test message is followed in the channel's delivery log, which
// refreshes while a delivery is still pending (retries); each card shows its latest failure.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { useCan } from "../api/session.ts";
import { ApiForm, SecretField } from "../components/api-form.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { ago } from "../lib/format.ts";
import { useList, useRowAction } from "../lib/use-list.ts";
import { CHANNEL_KINDS, type ChannelKind, channelBody, channelConfigPatch, channelFormValues, fieldsOf } from "../lib/channel-form.ts";

type Channel = Schemas["NotificationChannel"];
const channelKeys = {
  all: ["channels"] as const,
  deliveries: (id: string) => ["channels", id, "deliveries"] as const,
};

export function ChannelsPage() {
  const can = useCan();
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const [editing, setEditing] = useState<Channel | null>(null);
  const { list, remove } = useList(
    { queryKey: channelKeys.all, queryFn: () => ok(api.GET("/api/v1/notification-channels")) },
    {
      run: (c: Channel) => ok(api.DELETE("/api/v1/notification-channels/{id}", { params: { path: { id: c.id } } })),
      confirm: (c) => `Delete ${c.name} and its delivery log?`,
      done: () => "Channel deleted",
      id: (c) => c.id,
    },
  );
  const test = useRowAction({
    run: (c: Channel) => ok(api.POST("/api/v1/notification-channels/{id}/test", { params: { path: { id: c.id } } })),
    done: () => "Test message queued: see the delivery log",
    id: (c) => c.id,
    onDone: (c) => {
      setOpen(c.id);
      void qc.invalidateQueries({ queryKey: channelKeys.deliveries(c.id) });
    },
  });
  const toggle = useRowAction({
    run: (c: Channel) =>
      ok(api.PATCH("/api/v1/notification-channels/{id}", { params: { path: { id: c.id } }, body: { enabled: !c.enabled } })),
    done: (_, c) => `${c.name} ${c.enabled ? "switched on" : "switched off"}`,
    id: (c) => c.id,
    invalidates: [channelKeys.all],
  });
  const channels: Channel[] = list.data?.channels ?? [];
  return (
    <>
      <PageTitle actions={can.admin ? <Button onClick={() => setAdding(true)}>Add channel</Button> : null}>Notification channels</PageTitle>
      <Dialog
        open={adding}
        onOpenChange={setAdding}
        title="Add a channel"
        description="Notifications of the kinds you pick are delivered here."
      >
        <AddChannel
          onDone={() => {
            setAdding(false);
            void qc.invalidateQueries({ queryKey: channelKeys.all });
          }}
        />
      </Dialog>
      <Dialog
        open={editing !== null}
        onOpenChange={(o) => (o ? null : setEditing(null))}
        title={`Edit ${editing?.name ?? "channel"}`}
        description="Secrets stay masked: leave one as it is to keep it, type a new value to replace it."
      >
        {editing ? (
          <EditChannel
            key={editing.id}
            channel={editing}
            onDone={() => {
              setEditing(null);
              void qc.invalidateQueries({ queryKey: channelKeys.all });
            }}
          />
        ) : null}
      </Dialog>
      {list.isPending ? <p className="text-sm text-zinc-500">Loading…</p> : null}
      <ErrorNote error={list.error} />
      {list.data && channels.length === 0 ? (
        <Card>
          <Empty>No channel yet: notifications stay in Pier.</Empty>
        </Card>
      ) : null}
      <div className="grid gap-3">
        {channels.map((c) => (
          <Card
            key={c.id}
            title={
              <span data-testid="channel" data-name={c.name}>
                {c.name} <span className="font-normal text-zinc-500">· {c.type}</span> {c.enabled ? null : <StateBadge state="disabled" />}
              </span>
            }
            actions={
              <>
                <Button size="sm" variant="ghost" aria-expanded={open === c.id} onClick={() => setOpen(open === c.id ? null : c.id)}>
                  Delivery log
                </Button>
                {can.admin ? (
                  <>
                    <Button size="sm" variant="secondary" busy={test.busy(c)} onClick={() => test.run(c)}>
                      Send test
                    </Button>
                    <Button size="sm" variant="ghost" onClick={() => setEditing(c)}>
                      Edit
                    </Button>
                    <Button size="sm" variant="ghost" onClick={() => toggle.run(c)}>
                      {c.enabled ? "Switch off" : "Switch on"}
                    </Button>
                    <Button size="sm" variant="ghost" busy={remove.busy(c)} onClick={() => remove.run(c)}>
                      Delete
                    </Button>
                  </>
                ) : null}
              </>
            }
          >
            <dl className="grid gap-x-4 gap-y-1 text-sm sm:grid-cols-[max-content_1fr]">
              {Object.entries(c.config).map(([k, v]) => (
                <div key={k} className="contents">
                  <dt className="text-zinc-500">{k}</dt>
                  <dd className="font-mono break-all">{Array.isArray(v) ? v.join(", ") : String(v)}</dd>
                </div>
              ))}
              <dt className="text-zinc-500">events</dt>
              <dd data-testid="channel-events">{c.events?.join(", ") ?? "every kind"}</dd>
            </dl>
            <LastFailure channelId={c.id} />
            {open === c.id ? <Deliveries channelId={c.id} /> : null}
          </Card>
        ))}
      </div>
    </>
  );
}

// One read of a channel's log serves both its card (the latest failure) and the opened log.
const useDeliveries = (channelId: string) =>
  useQuery({
    queryKey: channelKeys.deliveries(channelId),
    queryFn: () => ok(api.GET("/api/v1/notification-channels/{id}/deliveries", { params: { path: { id: channelId } } })),
    // A pending delivery is being attempted or retried: follow it until it settles.
    refetchInterval: (q) => (q.state.data?.deliveries.some((d) => d.status === "pending") ? 2000 : false),
  });

/** The newest delivery, when it failed: what the receiver (or the network) answered. */
function LastFailure({ channelId }: { channelId: string }) {
  const log = useDeliveries(channelId);
  const last = log.data?.deliveries[0];
  if (last?.status !== "failed") return null;
  const failures = log.data?.deliveries.filter((d) => d.status === "failed").length ?? 0;
  return (
    <p
      role="status"
      data-testid="channel-last-error"
      className="mt-3 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-300"
    >
      Last delivery failed {ago(last.updated_at)}
      {last.last_status_code ? ` (HTTP ${last.last_status_code})` : ""}: {last.last_error ?? "no answer"}
      {failures > 1 ? <span className="block text-xs">{failures} of the latest deliveries failed; open the delivery log.</span> : null}
    </p>
  );
}

function Deliveries({ channelId }: { channelId: string }) {
  const log = useDeliveries(channelId);
  return (
    <div className="mt-3 border-t border-zinc-200 pt-3 dark:border-zinc-800">
      <ErrorNote error={log.error} />
      {log.data?.deliveries.length === 0 ? <Empty>Nothing delivered yet.</Empty> : null}
      <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
        {log.data?.deliveries.map((d) => (
          <li
            key={d.id}
            data-testid="delivery"
            data-status={d.status}
            data-kind={d.kind}
            className="flex flex-wrap justify-between gap-2 py-2"
          >
            <span>
              <StateBadge state={d.status} /> {d.kind}
              {d.last_status_code ? <span className="text-zinc-500"> · HTTP {d.last_status_code}</span> : null}
              {d.last_error ? <span className="block text-red-700 dark:text-red-400">{d.last_error}</span> : null}
            </span>
            <span className="text-xs text-zinc-500">
              {d.attempts} attempt{d.attempts === 1 ? "" : "s"} · {ago(d.delivered_at ?? d.created_at)}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A kind's config fields; editing, the secrets hold the API's masks and every field may stay as it is. */
function ChannelFields({
  kind,
  values,
  onChange,
  editing = false,
}: {
  kind: ChannelKind;
  values: Record<string, string>;
  onChange: (key: string, value: string) => void;
  editing?: boolean;
}) {
  return fieldsOf(kind).map((f) => {
    const label = f.optional ? `${f.label} (optional)` : f.label;
    const required = !editing && !f.optional;
    return f.secret ? (
      <SecretField
        key={`${kind}-${f.key}`}
        label={label}
        name={f.key}
        hint={f.hint}
        required={required}
        masked={editing}
        value={values[f.key] ?? ""}
        onChange={(v) => onChange(f.key, v)}
      />
    ) : (
      <Field key={`${kind}-${f.key}`} label={label} hint={f.hint}>
        <Input
          name={f.key}
          autoComplete="off"
          required={required}
          value={values[f.key] ?? ""}
          onChange={(e) => onChange(f.key, e.target.value)}
        />
      </Field>
    );
  });
}

function AddChannel({ onDone }: { onDone: () => void }) {
  const [kind, setKind] = useState<ChannelKind>("webhook");
  const [name, setName] = useState("");
  const [values, setValues] = useState<Record<string, string>>({});
  return (
    <ApiForm
      submit={() => ok(api.POST("/api/v1/notification-channels", { body: channelBody(kind, name, values) }))}
      done={(c) => `${c.name} added`}
      onDone={onDone}
      action="Add channel"
    >
      <Field label="Kind">
        <Select name="type" value={kind} onChange={(e) => setKind(e.target.value as ChannelKind)}>
          {CHANNEL_KINDS.map((k) => (
            <option key={k.kind} value={k.kind}>
              {k.label}
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Name">
        <Input name="name" required value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <ChannelFields kind={kind} values={values} onChange={(key, value) => setValues((v) => ({ ...v, [key]: value }))} />
    </ApiForm>
  );
}

const KINDS_KEY = ["notifications", "settings"] as const;

function EditChannel({ channel, onDone }: { channel: Channel; onDone: () => void }) {
  const [name, setName] = useState(channel.name);
  const [values, setValues] = useState<Record<string, string>>(() => channelFormValues(channel.type, channel.config));
  const [everyKind, setEveryKind] = useState(channel.events === null);
  const [events, setEvents] = useState<Set<string>>(() => new Set(channel.events ?? []));
  // The kinds a channel may receive, as the API lists them (the organization's notification settings).
  const kinds = useQuery({ queryKey: KINDS_KEY, queryFn: () => ok(api.GET("/api/v1/notifications/settings")) });
  const save = () => {
    const config = channelConfigPatch(channel.type, channel.config, values);
    return ok(
      api.PATCH("/api/v1/notification-channels/{id}", {
        params: { path: { id: channel.id } },
        body: {
          ...(name.trim() !== channel.name ? { name: name.trim() } : {}),
          ...(Object.keys(config).length ? { config } : {}),
          events: everyKind ? null : ([...events] as Schemas["NotificationSettings"]["kinds"][number]["kind"][]),
        },
      }),
    );
  };
  return (
    <ApiForm submit={save} done={(c) => `${c.name} saved`} onDone={onDone} onCancel={onDone} action="Save channel">
      <Field label="Name">
        <Input name="name" required value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <ChannelFields kind={channel.type} values={values} editing onChange={(key, value) => setValues((v) => ({ ...v, [key]: value }))} />
      <fieldset className="grid gap-2 text-sm">
        <legend className="mb-1 font-medium">Events</legend>
        <label className="flex items-center gap-2">
          <input type="checkbox" checked={everyKind} onChange={(e) => setEveryKind(e.target.checked)} />
          Every kind (including kinds added later)
        </label>
        {everyKind ? null : (
          <div className="grid gap-1 sm:grid-cols-2">
            <ErrorNote error={kinds.error} />
            {kinds.data?.kinds.map((k) => (
              <label key={k.kind} className="flex items-center gap-2 font-mono text-xs">
                <input
                  type="checkbox"
                  checked={events.has(k.kind)}
                  onChange={(e) =>
                    setEvents((s) => {
                      const next = new Set(s);
                      if (e.target.checked) next.add(k.kind);
                      else next.delete(k.kind);
                      return next;
                    })
                  }
                />
                {k.kind}
              </label>
            ))}
          </div>
        )}
      </fieldset>
    </ApiForm>
  );
}
