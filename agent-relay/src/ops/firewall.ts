// Firewall groups (protocol/firewall.ts): the work is the agent's HostFirewall (../firewall.ts),
// which also follows the containers after the command has answered.
import { FirewallUnavailableError } from "../firewall.ts";
import type { OpContext, OpHandlers } from "./context.ts";

const firewallOf = (ctx: OpContext) => {
  if (!ctx.firewall)
    throw new FirewallUnavailableError(
      "This agent runs without its firewall (embedded without one): firewall groups cannot be enforced here.",
    );
  return ctx.firewall;
};

export const firewallOps: Pick<OpHandlers, "firewall.apply" | "firewall.remove" | "firewall.list"> = {
  "firewall.apply": (args, ctx) => firewallOf(ctx).apply(args, ctx.signal),
  "firewall.remove": (args, ctx) => firewallOf(ctx).remove(args.server, ctx.signal),
  "firewall.list": (_args, ctx) => firewallOf(ctx).list(ctx.signal),
};
