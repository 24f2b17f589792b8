import { z } from "zod";

// The one-click local host of `npm start` (issue 11.3). `npm start` (scripts/start.ts) runs a
// control server on a loopback port and hands the Worker its URL, with a random secret as the
// path, in PIER_LOCAL_AGENT_CONTROL. The Worker registers the host (it owns the database and the
// rules); npm start runs the agent for it against the local Docker engine, remembers it in its
// data directory and keeps it running (restarts it if it dies, starts it again with npm start).
// Deployed Workers have no such variable, and the feature does not exist there.
//
//   GET  <control>  → LocalAgentStatus  (this machine's name; the host npm start runs an agent for)
//   PUT  <control>  LocalAgentAssignment → 204  (run and supervise an agent for this host from now on)
//   DELETE <control>  LocalAgentRelease → 204  (the host was deleted: stop its agent and forget it;
//                                           another host id is a no-op)

export const LocalAgentStatus = z.object({
  /** This machine's name, as a valid host name. */
  machine: z.string(),
  host_id: z.string().nullable(),
  running: z.boolean(),
});
export type LocalAgentStatus = z.infer<typeof LocalAgentStatus>;

export const LocalAgentAssignment = z.object({
  host_id: z.string().min(1),
  token: z.string().min(1),
});
export type LocalAgentAssignment = z.infer<typeof LocalAgentAssignment>;

export const LocalAgentRelease = z.object({ host_id: z.string().min(1) });
export type LocalAgentRelease = z.infer<typeof LocalAgentRelease>;

/** A machine name as a host name (letters, digits, '.', '_', '-'; at most 63 characters). */
export function hostNameOf(machine: string): string {
  const name = machine
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 63);
  return name || "this-machine";
}
