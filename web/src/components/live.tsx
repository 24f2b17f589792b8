// The organization's live streams, opened once for the signed-in layout, written into the query
// cache: Docker events move container rows, notifications land in the centre and refresh what
// they are about (a host coming online, a deployment finishing, an alert firing).
import { useQueryClient } from "@tanstack/react-query";
import type { Schemas } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useMyAccess } from "../api/session.ts";
import { useEventSource } from "../api/sse.ts";
import { applyContainerEvent, type Container, type DockerEvent } from "../lib/container-events.ts";
import { type HostPresence, presenceInList, withPresence } from "../lib/host-presence.ts";

type Notification = Schemas["Notification"];
type Host = Schemas["Host"];

export function LiveEvents() {
  const qc = useQueryClient();
  const access = useMyAccess();

  // The organization's Docker events show every project's containers: a project-scoped member's
  // request would be refused, so it is not made (their notifications still stream).
  useEventSource(access && access.project_ids === null ? "/api/v1/events" : null, {
    docker: (data) => {
      const event = JSON.parse(data) as DockerEvent;
      if (event.type === "container") {
        let refetch = false;
        qc.setQueryData<{ containers: Container[] }>(keys.hosts.containers(event.host_id), (old) => {
          if (!old) return old;
          const applied = applyContainerEvent(old.containers, event);
          refetch = applied.refetch;
          return { containers: applied.containers };
        });
        if (refetch) void qc.invalidateQueries({ queryKey: keys.hosts.containers(event.host_id) });
        void qc.invalidateQueries({ queryKey: ["hosts", event.host_id, "container"] });
        void qc.invalidateQueries({ queryKey: keys.hosts.list() });
      } else if (event.type === "image") void qc.invalidateQueries({ queryKey: keys.hosts.images(event.host_id) });
      else if (event.type === "volume") void qc.invalidateQueries({ queryKey: keys.hosts.volumes(event.host_id) });
      else if (event.type === "network") void qc.invalidateQueries({ queryKey: keys.hosts.networks(event.host_id) });
    },
    // A host's agent connected or went away: its state moves at once, the rest (versions,
    // counts) is read again.
    host: (data) => {
      const e = JSON.parse(data) as HostPresence;
      qc.setQueryData<{ hosts: Host[] }>(keys.hosts.list(), (old) => presenceInList(old, e));
      qc.setQueryData<Host>(keys.hosts.detail(e.host_id), (old) => old && withPresence(old, e));
      void qc.invalidateQueries({ queryKey: keys.hosts.all });
    },
    // The subscription is live (first connection or a reconnect): what it may have missed is read again.
    ready: () => void qc.invalidateQueries({ queryKey: keys.hosts.all }),
  });

  // What a notification of each kind makes the dashboard read again.
  const refreshFor = (kind: string) => {
    if (kind.startsWith("host.")) void qc.invalidateQueries({ queryKey: keys.hosts.all });
    if (kind.startsWith("deployment.")) {
      void qc.invalidateQueries({ queryKey: keys.applications.all });
      void qc.invalidateQueries({ queryKey: keys.deployments.latest() });
    }
    if (kind.startsWith("alert.")) void qc.invalidateQueries({ queryKey: keys.alerts.all });
    if (kind.startsWith("backup.")) void qc.invalidateQueries({ queryKey: ["backups"] });
  };
  useEventSource(
    "/api/v1/notifications/stream",
    {
      message: (data) => {
        const n = JSON.parse(data) as Notification & { type?: string };
        if (n.type !== "notification") return;
        void qc.invalidateQueries({ queryKey: keys.notifications.all });
        refreshFor(n.kind);
      },
    },
    // Connected, or connected again after a drop (a network change fails the stream, and the
    // browser reconnects seconds later): a notification sent in between reached nobody, so what
    // it would have refreshed is read again. Refreshing only the inbox left an alert that fired
    // meanwhile off the Alerts page, its badge counted, until a reload. Hosts are the events
    // stream's: its `ready` reads them all again on its own connection, so only the list here.
    () => {
      void qc.invalidateQueries({ queryKey: keys.notifications.all });
      void qc.invalidateQueries({ queryKey: keys.hosts.list() });
      for (const kind of ["deployment.", "alert.", "backup."]) refreshFor(kind);
    },
  );
  return null;
}
