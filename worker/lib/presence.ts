import { HEARTBEAT_INTERVAL_MS } from "#protocol";

// Presence windows, shared by the HostRelay (which keeps presence) and the services that show it.
// A leaf module: the relay imports the services (through its watch), so these cannot live in either.

/**
 * A host is disconnected once a heartbeat is this late: one interval plus room for a slow network
 * or a busy machine. A frozen agent is caught sooner still by the first command it fails to
 * acknowledge (agentAckTimeoutMs in settings.ts)…
 */
export const HEARTBEAT_WINDOW_MS = HEARTBEAT_INTERVAL_MS + 10_000;
/** …and lost after this long away. */
export const LOST_AFTER_MS = 5 * 60_000;
/**
 * A disconnected host is only announced if it stays away this long: every deploy of the Worker
 * drops every agent for a few seconds (DESIGN.md), and those reconnects are not news.
 */
export const DISCONNECT_NOTICE_MS = 60_000;
/** A mirror older than this is stale: the relay missed its own presence checks. */
export const STALE_MIRROR_MS = HEARTBEAT_WINDOW_MS + 60_000;
