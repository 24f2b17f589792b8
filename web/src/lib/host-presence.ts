// A host's agent connecting or going away, as the event stream's `host` frames say it
// (GET /api/v1/events): written into the cached host list and host, so every screen that shows the
// host's state follows it without reading it again.
import type { Schemas } from "../api/client.ts";

type Host = Schemas["Host"];

export interface HostPresence {
  host_id: string;
  host_name: string;
  status: "online" | "disconnected" | "lost";
  time: string;
}

export const withPresence = (host: Host, e: HostPresence): Host =>
  host.id === e.host_id
    ? {
        ...host,
        status: e.status,
        ...(e.status === "online"
          ? { connected_at: e.time, last_seen_at: e.time }
          : e.status === "disconnected"
            ? { disconnected_at: e.time }
            : {}),
      }
    : host;

export function presenceInList<L extends { hosts: Host[] }>(list: L | undefined, e: HostPresence): L | undefined {
  return list && { ...list, hosts: list.hosts.map((h) => withPresence(h, e)) };
}
