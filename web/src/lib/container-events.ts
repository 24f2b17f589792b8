// Docker events from /api/v1/events applied to a host's container list in the query cache, so the
// table changes as the engine does, without a refetch per event. Events that carry too little to
// draw a row (a new container) also ask for a refetch.
import type { Schemas } from "../api/client.ts";

export type Container = Schemas["Container"];

export interface DockerEvent {
  host_id: string;
  host_name: string;
  type: string;
  action: string;
  id: string;
  name: string | null;
  attributes: Record<string, string>;
  time: string;
}

/** The state a container is in after `action` (Docker's event names), or undefined if unchanged. */
export function stateAfter(action: string): string | undefined {
  // exec_start: …, health_status: … carry a suffix after a colon; they change no state.
  switch (action) {
    case "start":
    case "unpause":
    case "restart":
      return "running";
    case "die":
    case "stop":
    case "kill":
      return undefined; // "die" follows with the real end; "kill" may not stop anything
    case "pause":
      return "paused";
    case "create":
      return "created";
    default:
      return undefined;
  }
}

const STATUS_OF: Record<string, string> = { running: "Up", paused: "Up (Paused)", created: "Created" };

export interface Applied {
  containers: Container[];
  /** The event named a container the list does not describe well enough: fetch the list again. */
  refetch: boolean;
}

export function applyContainerEvent(containers: readonly Container[], event: DockerEvent): Applied {
  if (event.type !== "container") return { containers: [...containers], refetch: false };
  const index = containers.findIndex((c) => c.id === event.id || event.id.startsWith(c.id) || c.id.startsWith(event.id));
  if (event.action === "destroy") {
    return { containers: index < 0 ? [...containers] : containers.filter((_, i) => i !== index), refetch: false };
  }
  if (event.action === "die") {
    if (index < 0) return { containers: [...containers], refetch: true };
    const exit = event.attributes.exitCode ?? "0";
    const next = [...containers];
    next[index] = { ...containers[index]!, state: "exited", status: `Exited (${exit})` };
    return { containers: next, refetch: false };
  }
  if (event.action === "rename" && index >= 0 && event.name) {
    const next = [...containers];
    next[index] = { ...containers[index]!, name: event.name.replace(/^\//, "") };
    return { containers: next, refetch: false };
  }
  const state = stateAfter(event.action);
  if (!state) return { containers: [...containers], refetch: false };
  if (index < 0) {
    const row: Container = {
      id: event.id,
      short_id: event.id.slice(0, 12),
      name: (event.name ?? event.id.slice(0, 12)).replace(/^\//, ""),
      image: event.attributes.image ?? "",
      state,
      status: STATUS_OF[state] ?? state,
      created_at: event.time,
      labels: {},
      managed: event.attributes["dev.pier.managed"] === "true",
      ports: [],
    };
    return { containers: [row, ...containers], refetch: true };
  }
  const next = [...containers];
  next[index] = { ...containers[index]!, state, status: STATUS_OF[state] ?? state };
  return { containers: next, refetch: false };
}
