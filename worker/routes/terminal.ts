import { createRoute, z } from "@hono/zod-openapi";
import { ContainerRef, TERMINAL_MODES } from "#protocol";
import { classic } from "../lib/protocol-schema.ts";
import { ApiError, unauthorized } from "../errors.ts";
import { actorOf, authedActor } from "../middleware/request-context.ts";
import { issueTerminalTicket, openTerminal, redeemTerminalTicket } from "../services/terminal.ts";
import {
  authedRoute,
  authErrors,
  bearerSecurity,
  conflictError,
  createRouter,
  HostParam,
  jsonResponse,
  notFoundError,
  relayErrors,
  validationErrors,
} from "./openapi.ts";

// The interactive terminal: a WebSocket per shell (exec) or attach, and the single-use tickets
// browsers use to open it (a browser's WebSocket cannot send an Authorization header). Mounted
// before the other /hosts routers, whose `requireAuth` would refuse a ticket-only upgrade.
export const terminalRoutes = createRouter();

terminalRoutes.openAPIRegistry.registerComponent("securitySchemes", "terminalTicket", {
  type: "apiKey",
  in: "query",
  name: "ticket",
  description: "A single-use terminal ticket from POST …/terminal/ticket (30 s, one container); for browsers.",
});

const ContainerParam = HostParam.extend({
  id: classic(ContainerRef).openapi({ param: { name: "id", in: "path" }, description: "Container id (full or short) or name." }),
});

const size = (what: string, fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(fallback)
    .openapi({ description: `Initial ${what} of the TTY (resize later with a resize message).` });

const TerminalQuery = z.object({
  mode: z.enum(TERMINAL_MODES).default("exec").openapi({
    description: "`exec` runs a new process with a TTY (`docker exec -it`); `attach` joins the container's main process (`docker attach`).",
  }),
  cmd: z
    .union([z.string().min(1).max(4096), z.array(z.string().min(1).max(4096)).min(1).max(64)])
    .transform((v) => (Array.isArray(v) ? v : v.split(/\s+/).filter(Boolean)))
    .pipe(z.array(z.string()).min(1, "cmd is empty"))
    .optional()
    .openapi({
      description:
        "exec only: the command, split on spaces (`cmd=ls -la`), or one argument per repeated `cmd`. Default: /bin/bash if the container has it, else /bin/sh.",
    }),
  user: z.string().min(1).max(256).optional().openapi({ description: "exec only: the user (`name`, `uid`, `uid:gid`)." }),
  workdir: z.string().startsWith("/").max(4096).optional().openapi({ description: "exec only: the working directory." }),
  cols: size("columns", 80),
  rows: size("rows", 24),
  ticket: z.string().min(1).max(128).optional().openapi({ description: "A terminal ticket, instead of a credential header (browsers)." }),
});

terminalRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{hostId}/containers/{id}/terminal",
    tags: ["containers"],
    summary: "Open an interactive terminal in a container: a WebSocket (member+)",
    description: [
      "A WebSocket upgrade (`Connection: Upgrade`, `Upgrade: websocket`). Authenticate with the usual header, or with `?ticket=` from POST …/terminal/ticket where headers cannot be set (browsers).",
      "",
      "Frames: **binary** both ways carry the terminal's raw bytes (keystrokes in, TTY output out). **Text** frames are JSON control messages: the client sends",
      '`{"type":"resize","cols":120,"rows":40}` (or `{"type":"input","data":"ls\\n"}` if it cannot send binary); the server sends `{"type":"ready","mode","container","cmd"}` first and',
      '`{"type":"error","message"}` for a frame it could not use.',
      "",
      'The end: close code 1000 with reason `{"exit_code":N}` when the process exits (attach: the container); 4000 after the idle timeout',
      "(PIER_TERMINAL_IDLE_TIMEOUT_SECONDS, default 900, counting bytes either way); 1011 when the host's agent went away. Closing the socket ends the exec's process",
      "(attach only detaches). Refusals come before the upgrade, as HTTP errors: 403 for viewers, 404 for no such host or container, 409 for a container that is not running.",
    ].join("\n"),
    security: [...(bearerSecurity ?? []), { terminalTicket: [] }],
    request: { params: ContainerParam, query: TerminalQuery },
    responses: {
      101: { description: "Switching Protocols: the terminal's WebSocket." },
      426: { description: "Not a WebSocket upgrade." },
      ...validationErrors,
      ...authErrors,
      ...notFoundError,
      ...conflictError,
      ...relayErrors,
    },
  }),
  async (c) => {
    const { hostId, id } = c.req.valid("param");
    const { ticket, mode, cmd, user, workdir, cols, rows } = c.req.valid("query");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError(426, "This endpoint is a WebSocket: connect with `Upgrade: websocket` (see the README's terminal section).");
    }
    if (mode === "attach" && (cmd || user || workdir)) {
      throw new ApiError(422, "cmd, user and workdir are for mode=exec; attach joins the container's own process.");
    }
    // A credential header wins; a ticket is spent only when there is none.
    if (!c.var.principal) {
      if (!ticket) throw unauthorized("Send `Authorization: Bearer <token>` or `?ticket=` from POST …/terminal/ticket.");
      c.set("principal", await redeemTerminalTicket(c.env, hostId, id, ticket));
    }
    const actor = { ...actorOf(c), principal: c.var.principal };
    return openTerminal(c.var.db, c.env, actor, hostId, id, {
      mode,
      ...(cmd ? { cmd } : {}),
      ...(user ? { user } : {}),
      ...(workdir ? { workdir } : {}),
      cols,
      rows,
    });
  },
);

const TerminalTicket = z
  .object({
    ticket: z.string().openapi({ description: "Pass as `?ticket=` on the terminal's WebSocket URL; single use." }),
    expires_at: z.string().openapi({ description: "UTC ISO 8601; about 30 s from now." }),
  })
  .openapi("TerminalTicket");

terminalRoutes.openapi(
  authedRoute({
    method: "post",
    path: "/{hostId}/containers/{id}/terminal/ticket",
    tags: ["containers"],
    summary: "A single-use, 30-second ticket to open this container's terminal from a browser (member+)",
    request: { params: ContainerParam },
    responses: {
      201: jsonResponse(TerminalTicket, "The ticket, bound to the caller and this container."),
    },
    errors: ["validation", "notFound"],
  }),
  async (c) => {
    if (!c.var.principal) throw unauthorized();
    const { hostId, id } = c.req.valid("param");
    return c.json(await issueTerminalTicket(c.var.db, c.env, authedActor(c).principal, hostId, id), 201);
  },
);
