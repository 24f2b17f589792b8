// Servers (seeds 002/004): long-running containers the control plane manages as servers. Their
// containers, data volumes and networks carry these labels (with dev.pier.managed), so the agent,
// sync and cleanup can tell a server's objects from anything else on the host.

/** The server's id (`srv_…`) on its container and its volumes. */
export const SERVER_LABEL = "dev.pier.server";
/** The organization the server belongs to. */
export const ORG_LABEL = "dev.pier.org";
/** What kind of Pier object it is: `server` for servers. */
export const KIND_LABEL = "dev.pier.kind";
/** On the user-defined bridge networks made for servers' subnets: the subnet, as CIDR. */
export const SERVER_NETWORK_LABEL = "dev.pier.server-network";
/** Put on everything the agent creates (docker/client.ts MANAGED_LABEL is this value). */
export const MANAGED_LABEL_KEY = "dev.pier.managed";
