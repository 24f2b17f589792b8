import type { Database } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { ApiError, unauthorized } from "../errors.ts";
import { TERMINAL_HEADER, type TerminalOptions, type TerminalRequest } from "../durable/terminal-relay.ts";
import { relayFailure } from "../lib/relay.ts";
import { terminalIdleTimeoutMs } from "../settings.ts";
import { recordAudit } from "./audit.ts";
import { getHost } from "./hosts.ts";
import { type Actor, type Principal, requireRole } from "./principal.ts";

// The interactive terminal (`docker exec -it`, `docker attach`) over a WebSocket: the caller is
// authenticated and authorized here, the host's HostRelay opens it on the host and relays it
// (durable/terminal-relay.ts). Members and up only: a shell can do anything in the container.

/** How long a terminal ticket is good for; long enough for a browser to open its socket. */
export const TERMINAL_TICKET_TTL_MS = 30_000;

const HOST_ID = /^hst_[0-9a-z]{20}$/;

/** A single-use ticket bound to the caller and the container, for `?ticket=` on the upgrade. */
export async function issueTerminalTicket(db: Database, env: Bindings, principal: Principal, hostId: string, container: string) {
  requireRole(principal, "member", "open a terminal in a container");
  await getHost(db, principal.organizationId, hostId);
  const { ticket, expiresAt } = await env.HOST_RELAY.getByName(hostId).issueTerminalTicket(principal, container, TERMINAL_TICKET_TTL_MS);
  return { ticket, expires_at: new Date(expiresAt).toISOString() };
}

/** The principal a ticket was issued to; 401 when it is unknown, spent, expired or for another container. */
export async function redeemTerminalTicket(env: Bindings, hostId: string, container: string, ticket: string): Promise<Principal> {
  const principal = HOST_ID.test(hostId) ? await env.HOST_RELAY.getByName(hostId).redeemTerminalTicket(ticket, container) : null;
  if (!principal) {
    throw unauthorized(
      "This terminal ticket is not valid: tickets are single use, live 30 s and name one container. Get a new one with POST …/terminal/ticket.",
    );
  }
  return principal;
}

/**
 * Hands the client's upgrade to the host's HostRelay, which opens the terminal on the host before
 * it accepts the socket; any refusal (no such container, not running, host offline) is an HTTP
 * error on the upgrade. The audit event names who opened what; what is typed is never recorded.
 */
export async function openTerminal(
  db: Database,
  env: Bindings,
  actor: Actor & { principal: Principal },
  hostId: string,
  container: string,
  options: TerminalOptions,
): Promise<Response> {
  const { principal } = actor;
  requireRole(principal, "member", "open a terminal in a container");
  if (!HOST_ID.test(hostId)) await getHost(db, principal.organizationId, hostId);
  const request: TerminalRequest = {
    organizationId: principal.organizationId,
    userId: principal.userId,
    container,
    ...options,
    idleTimeoutMs: terminalIdleTimeoutMs(env),
  };
  const headers = new Headers({ upgrade: "websocket", [TERMINAL_HEADER]: JSON.stringify(request) });
  const response = await env.HOST_RELAY.getByName(hostId).fetch(new Request("https://relay/terminal", { headers }));
  if (response.status !== 101) {
    const { code, message } = (await response.json()) as { code: string; message: string };
    if (code === "unknown_host") {
      const host = await getHost(db, principal.organizationId, hostId);
      throw new ApiError(503, `Host ${host.name} is offline: its agent has not connected yet. Start the agent and retry.`);
    }
    throw relayFailure({ code, message });
  }
  await recordAudit(db, actor, {
    organizationId: principal.organizationId,
    action: options.mode === "exec" ? "container.terminal" : "container.attach",
    targetType: "container",
    targetId: container,
    metadata: { host_id: hostId, mode: options.mode, cmd: options.cmd ?? null, user: options.user ?? null, by: principal.username },
  });
  return response;
}
