import { HEARTBEAT_INTERVAL_BOUNDS_MS, HEARTBEAT_INTERVAL_MS } from "#protocol";

// Presence windows, shared by the HostRelay (which keeps presence) and the services that show it.
// A leaf module: the relay imports the services (through its watch), so these cannot live in either.

/** Room past a due heartbeat for a slow network or a busy machine. */
const HEARTBEAT_GRACE_MS = 10_000;

/**
 * A host is disconnected once a heartbeat is this late: one interval, as the agent announced it in
 * hello (clamped to HEARTBEAT_INTERVAL_BOUNDS_MS; the protocol's default for an agent that did not
 * say, or before its hello), plus the grace. A frozen agent is caught sooner still by the first
 * command it fails to acknowledge (agentAckTimeoutMs in settings.ts)…
 */
export function heartbeatWindowMs(announcedIntervalMs?: number): number {
  const interval = Math.min(
    HEARTBEAT_INTERVAL_BOUNDS_MS.max,
    Math.max(HEARTBEAT_INTERVAL_BOUNDS_MS.min, announcedIntervalMs ?? HEARTBEAT_INTERVAL_MS),
  );
  return interval + HEARTBEAT_GRACE_MS;
}
/** The window of an agent that announces nothing: the protocol's default interval. */
export const HEARTBEAT_WINDOW_MS = heartbeatWindowMs();
/** …and lost after this long away. */
export const LOST_AFTER_MS = 5 * 60_000;
/**
 * A disconnected host is only announced if it stays away this long: every deploy of the Worker
 * drops every agent for a few seconds (DESIGN.md), and those reconnects are not news.
 */
export const DISCONNECT_NOTICE_MS = 60_000;
/**
 * A mirror older than this is stale: the relay missed its own presence checks. Counted from the
 * longest window an agent can announce, so a slow-beating agent's host is not taken for stale.
 */
export const STALE_MIRROR_MS = heartbeatWindowMs(HEARTBEAT_INTERVAL_BOUNDS_MS.max) + 60_000;
