import { HEARTBEAT_INTERVAL_MS } from "#protocol";

// Presence windows, shared by the HostRelay (which keeps presence) and the services that show it.
// A leaf module: the relay imports the services (through its watch), so these cannot live in either.

/** A host is disconnected after missing this much heartbeat… */
export const HEARTBEAT_WINDOW_MS = HEARTBEAT_INTERVAL_MS * 3 + 5_000;
/** …and lost after this long away. */
export const LOST_AFTER_MS = 5 * 60_000;
/**
 * A disconnected host is only announced if it stays away this long: every deploy of the Worker
 * drops every agent for a few seconds (DESIGN.md), and those reconnects are not news.
 */
export const DISCONNECT_NOTICE_MS = 60_000;
/** A mirror older than this is stale: the relay missed its own presence checks. */
export const STALE_MIRROR_MS = HEARTBEAT_WINDOW_MS + 60_000;
