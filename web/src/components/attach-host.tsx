// Attaching a host: create it, show the agent's install commands (its token is shown this once),
// and wait live until the agent connects (the `host` frame of the event stream; no polling).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useEventSource } from "../api/sse.ts";
import { type HostPresence, withPresence } from "../lib/host-presence.ts";
import { Button } from "./ui/button.tsx";
import { ErrorNote, StateBadge } from "./ui/card.tsx";
import { Field, Input } from "./ui/input.tsx";
import { useToast } from "./ui/toast.tsx";

type HostWithToken = Schemas["HostWithToken"];

export function AttachHost({ localHostAvailable = false }: { localHostAvailable?: boolean }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [hostId, setHostId] = useState<string | null>(null);
  const [created, setCreated] = useState<HostWithToken | null>(null);

  const create = useMutation({
    mutationFn: (name: string) => ok(api.POST("/api/v1/hosts", { body: { name } })),
    onSuccess: (host) => {
      setCreated(host);
      setHostId(host.id);
      void qc.invalidateQueries({ queryKey: keys.hosts.all });
    },
  });
  const attachLocal = useMutation({
    mutationFn: () => ok(api.POST("/api/v1/setup/local-host")),
    onSuccess: ({ host }) => {
      setHostId(host.id);
      toast.ok(`Attaching ${host.name}: npm start is starting its agent`);
      void qc.invalidateQueries({ queryKey: keys.hosts.all });
    },
    onError: (err) => toast.error(err),
  });

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    create.mutate(String(new FormData(e.currentTarget).get("name")));
  };

  if (hostId) return <WaitForHost hostId={hostId} install={created?.install} />;
  return (
    <div className="grid gap-4">
      {localHostAvailable ? (
        <div className="grid gap-2 rounded-md border border-sky-200 bg-sky-50 p-3 text-sm dark:border-sky-900 dark:bg-sky-950">
          <p>Pier runs under npm start on this machine: it can run the agent for this machine's Docker engine itself.</p>
          <Button onClick={() => attachLocal.mutate()} busy={attachLocal.isPending}>
            Attach this machine
          </Button>
        </div>
      ) : null}
      <form onSubmit={submit} className="grid gap-3">
        {/* Browsers compile pattern with the v flag, where a bare '-' in a class is a syntax error (and no check at all). */}
        <Field label="Host name" hint="A name you will know it by, e.g. web-1">
          <Input name="name" required maxLength={63} pattern="[a-zA-Z0-9][a-zA-Z0-9._\-]*" />
        </Field>
        {create.error ? <ErrorNote error={create.error} /> : null}
        <Button type="submit" busy={create.isPending}>
          Create host and show install commands
        </Button>
      </form>
    </div>
  );
}

function WaitForHost({ hostId, install }: { hostId: string; install?: Schemas["AgentInstall"] }) {
  const qc = useQueryClient();
  const [live, setLive] = useState(false);
  const host = useQuery({
    queryKey: keys.hosts.detail(hostId),
    queryFn: () => ok(api.GET("/api/v1/hosts/{id}", { params: { path: { id: hostId } } })),
  });
  const detail = keys.hosts.detail(hostId);
  // The layout's stream is not mounted during first run: this host's presence, heard here. Once the
  // stream says it is live the host is read once more (it may have connected in between); from
  // then on the `host` frame alone moves the state: no polling.
  useEventSource(`/api/v1/hosts/${encodeURIComponent(hostId)}/events?type=host`, {
    ready: async () => {
      await qc.refetchQueries({ queryKey: detail });
      setLive(true);
    },
    host: async (data) => {
      const e = JSON.parse(data) as HostPresence;
      // A read still in flight may predate the event: it must not overwrite it.
      await qc.cancelQueries({ queryKey: detail });
      if (qc.getQueryData(detail)) qc.setQueryData<Schemas["Host"]>(detail, (old) => old && withPresence(old, e));
      else void qc.invalidateQueries({ queryKey: detail });
      void qc.invalidateQueries({ queryKey: keys.hosts.list() });
    },
  });
  const online = host.data?.status === "online";
  return (
    <div className="grid gap-4">
      {install ? (
        <div className="grid gap-3 text-sm">
          <p>Run one of these on the machine whose Docker engine Pier should manage. The token is shown only now.</p>
          <Command label="Node.js 22 (npx)" text={install.npx} />
          <Command label="systemd service (Node.js 22, run as root)" text={install.systemd.commands.join("\n")} />
          {/* The image is in no registry: docker run alone would look for it on Docker Hub. */}
          <Command label="Docker (image built by scripts/images.sh or from agent-relay/Dockerfile)" text={install.docker} />
          <Command label="From a checkout of Pier" text={install.npm} />
        </div>
      ) : null}
      <div className="flex items-center gap-3 text-sm" aria-live="polite">
        {online ? (
          <>
            <StateBadge state="online" data-testid="host-state" />
            <span>{host.data?.name} is connected.</span>
            <Link to="/docker-hosts/$hostId" params={{ hostId }} className="font-medium text-sky-600 underline">
              Open the host
            </Link>
          </>
        ) : (
          <>
            <span className="size-3 animate-pulse rounded-full bg-amber-500" aria-hidden />
            <span data-testid="host-state" data-state={host.data?.status ?? "waiting"} data-live={live}>
              Waiting for the agent of {host.data?.name ?? "the host"} to connect…
            </span>
          </>
        )}
      </div>
    </div>
  );
}

export function Command({ label, text }: { label: string; text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="grid gap-1">
      <div className="flex items-center justify-between">
        <span className="text-xs font-medium text-zinc-500">{label}</span>
        <Button
          variant="ghost"
          size="sm"
          onClick={async () => {
            await navigator.clipboard?.writeText(text);
            setCopied(true);
          }}
        >
          {copied ? "Copied" : "Copy"}
        </Button>
      </div>
      <pre className="overflow-x-auto rounded-md bg-zinc-900 p-3 font-mono text-xs text-zinc-100">{text}</pre>
    </div>
  );
}
