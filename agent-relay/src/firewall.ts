// Firewall groups on the host (protocol/firewall.ts): a server's ruleset as an iptables chain in
// Docker's DOCKER-USER, written with `iptables-restore --noflush` so each change is one kernel
// transaction (the chain's new rules, its jumps for the container's current addresses, and the
// removal of the old jumps all at once: no packet ever sees half a ruleset).
//
// The agent keeps the last ruleset applied per server in memory and follows Docker's events: when
// the container starts again, joins or leaves a network, or goes away, the chain's jumps follow its
// addresses (a stopped container's address may be handed to another container, so its jumps go
// with it). An agent that restarts forgets; the control plane pushes every server's ruleset again
// when the agent says hello (services/firewall.ts, reapplyHostFirewalls).
import { spawn } from "node:child_process";
import { DockerError } from "./docker/errors.ts";
import type { DockerClient } from "./docker/client.ts";
import type { Logger } from "./log.ts";
import {
  firewallChainName,
  type DockerEvent,
  type FirewallApply,
  type FirewallChainState,
  type FirewallOpResults,
  type FirewallRule,
  SERVER_LABEL,
} from "./protocol.ts";

const DOCKER_USER = "DOCKER-USER";
const CHAIN_PREFIX = "PIER-";

/** The host cannot enforce rules (no privilege, no iptables, no DOCKER-USER); the message says what to fix. */
export class FirewallUnavailableError extends Error {
  override readonly name = "FirewallUnavailableError";
}

/** iptables refused a ruleset for another reason; its own words are kept. */
export class FirewallFailedError extends Error {
  override readonly name = "FirewallFailedError";
}

// ---- the ruleset as iptables-restore input (pure) ------------------------------------------------

const host = (address: string) => `${address}/32`;

function ruleLine(chain: string, address: string, rule: FirewallRule): string {
  const parts = ["-A", chain];
  if (rule.direction === "in") {
    parts.push("-d", host(address));
    if (rule.cidr && rule.cidr !== "0.0.0.0/0") parts.push("-s", rule.cidr);
  } else {
    parts.push("-s", host(address));
    if (rule.cidr && rule.cidr !== "0.0.0.0/0") parts.push("-d", rule.cidr);
  }
  if (rule.protocol !== "all") parts.push("-p", rule.protocol);
  if (rule.port_from !== undefined) {
    parts.push(
      "-m",
      rule.protocol,
      "--dport",
      rule.port_to !== undefined && rule.port_to !== rule.port_from ? `${rule.port_from}:${rule.port_to}` : `${rule.port_from}`,
    );
  }
  // The id is [a-zA-Z0-9_-] (protocol), so it needs no quoting in iptables-restore's grammar.
  if (rule.id) parts.push("-m", "comment", "--comment", `pier:${rule.id}`);
  parts.push("-j", rule.action === "allow" ? "RETURN" : "DROP");
  return parts.join(" ");
}

/**
 * The iptables-restore input that makes `chain` hold `spec`'s rules for `addresses` and be entered
 * from DOCKER-USER for exactly those addresses. `oldJumps` are DOCKER-USER's current rules that jump
 * to the chain (as `iptables -S` prints them): deleted in the same transaction.
 */
export function renderApply(
  chain: string,
  addresses: string[],
  spec: Pick<FirewallApply, "rules" | "default_inbound" | "default_outbound">,
  oldJumps: string[],
): string {
  const lines = ["*filter", `:${chain} - [0:0]`];
  // Stateful, as security groups are: replies to a connection the rules let through always pass.
  lines.push(`-A ${chain} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`);
  for (const address of addresses) {
    for (const direction of ["in", "out"] as const) {
      for (const rule of spec.rules) if (rule.direction === direction) lines.push(ruleLine(chain, address, rule));
      const fallback = direction === "in" ? spec.default_inbound : spec.default_outbound;
      if (fallback === "deny") lines.push(`-A ${chain} ${direction === "in" ? "-d" : "-s"} ${host(address)} -j DROP`);
    }
  }
  for (const jump of oldJumps) lines.push(jump.replace(/^-A /, "-D "));
  for (const address of addresses) {
    lines.push(`-I ${DOCKER_USER} 1 -d ${host(address)} -j ${chain}`);
    lines.push(`-I ${DOCKER_USER} 1 -s ${host(address)} -j ${chain}`);
  }
  lines.push("COMMIT", "");
  return lines.join("\n");
}

/** The transaction that takes the chain away: its jumps, its rules, the chain. */
export function renderRemove(chain: string, oldJumps: string[]): string {
  return ["*filter", ...oldJumps.map((jump) => jump.replace(/^-A /, "-D ")), `-F ${chain}`, `-X ${chain}`, "COMMIT", ""].join("\n");
}

/** From `iptables -S` output: the PIER- chains and DOCKER-USER's jumps to each. */
export function parseChains(save: string): Map<string, { jumps: string[]; addresses: string[] }> {
  const chains = new Map<string, { jumps: string[]; addresses: string[] }>();
  const lines = save.split("\n").map((l) => l.trim());
  for (const line of lines) {
    const created = /^-N (PIER-\S+)$/.exec(line);
    if (created) chains.set(created[1]!, { jumps: [], addresses: [] });
  }
  for (const line of lines) {
    const jump = /^-A DOCKER-USER (.*)-j (PIER-\S+)$/.exec(line);
    if (!jump) continue;
    const entry = chains.get(jump[2]!) ?? { jumps: [], addresses: [] };
    chains.set(jump[2]!, entry);
    entry.jumps.push(line);
    const address = /-[sd] (\d+\.\d+\.\d+\.\d+)(?:\/32)?\s/.exec(`${jump[1]!}`)?.[1];
    if (address && !entry.addresses.includes(address)) entry.addresses.push(address);
  }
  return chains;
}

/** A container's IPv4 addresses on all its networks (none while it is not running). */
export function containerAddresses(inspect: Record<string, unknown>): string[] {
  const state = inspect.State as { Running?: boolean } | undefined;
  if (!state?.Running) return [];
  const networks = (inspect.NetworkSettings as { Networks?: Record<string, { IPAddress?: string }> } | undefined)?.Networks ?? {};
  return [...new Set(Object.values(networks).map((n) => n.IPAddress ?? ""))].filter((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)).sort();
}

// ---- running iptables ------------------------------------------------------------------------------

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

const NO_PRIVILEGE = /permission denied|must be root|operation not permitted/i;

function runTool(command: string[], input: string | undefined, signal: AbortSignal): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = command;
    const child = spawn(file!, args, { stdio: ["pipe", "pipe", "pipe"], signal });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT")
        reject(
          new FirewallUnavailableError(
            `${file} is not installed on this host, so firewall groups cannot be enforced: install iptables (apt-get install iptables) — the same variant (nft or legacy) the Docker engine uses — and retry.`,
          ),
        );
      else reject(error);
    });
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A tool that exits before reading its input (iptables -S never does; iptables-restore refusing
    // line one) fails the write with EPIPE; its exit status and stderr already say what went wrong.
    child.stdin.on("error", () => {});
    if (input === undefined) child.stdin.end();
    else child.stdin.end(input);
  });
}

export interface HostFirewallOptions {
  /** The iptables command (default `["iptables"]`); `-restore` is appended to its last word for restores. */
  iptables?: string[];
}

interface Applied {
  spec: FirewallApply;
  /** The container's id once it was found, so events by id match. */
  containerId: string | null;
}

/** The host's firewall: one per agent. Every change runs under one lock (read state, then write it). */
export class HostFirewall {
  readonly #docker: DockerClient;
  readonly #log: Logger;
  readonly #iptables: string[];
  readonly #restore: string[];
  readonly #applied = new Map<string, Applied>();
  #queue: Promise<unknown> = Promise.resolve();
  readonly #stopping = new AbortController();

  constructor(docker: DockerClient, log: Logger, options: HostFirewallOptions = {}) {
    this.#docker = docker;
    this.#log = log;
    this.#iptables = options.iptables ?? ["iptables"];
    const last = this.#iptables.length - 1;
    this.#restore = this.#iptables.map((word, i) => (i === last ? `${word}-restore` : word));
  }

  /** The servers whose rules this agent keeps following. */
  get following(): number {
    return this.#applied.size;
  }

  stop(): void {
    this.#stopping.abort();
  }

  #locked<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #iptablesSave(signal: AbortSignal): Promise<string> {
    const ran = await runTool([...this.#iptables, "-w", "10", "-S"], undefined, signal);
    if (ran.code !== 0) throw this.#failure("read the firewall", ran);
    if (!/^-N DOCKER-USER$/m.test(ran.stdout))
      throw new FirewallUnavailableError(
        "The Docker engine on this host has no DOCKER-USER chain in iptables' filter table: it runs with iptables disabled (`\"iptables\": false` in daemon.json), or iptables here is a different variant (nft or legacy) than the engine's. Let the engine manage iptables, or switch `update-alternatives --config iptables` to the engine's variant, then retry.",
      );
    return ran.stdout;
  }

  async #restoreTx(input: string, what: string, signal: AbortSignal): Promise<void> {
    const ran = await runTool([...this.#restore, "-w", "10", "--noflush"], input, signal);
    if (ran.code !== 0) throw this.#failure(what, ran);
  }

  #failure(what: string, ran: Ran): Error {
    const words = (ran.stderr || ran.stdout).trim().split("\n").slice(0, 3).join(" ");
    if (NO_PRIVILEGE.test(words))
      return new FirewallUnavailableError(
        `The agent may not change iptables on this host (${words}): run it as root, or give its container NET_ADMIN and the host's network (docker run --cap-add NET_ADMIN --network host …), then retry.`,
      );
    return new FirewallFailedError(`iptables could not ${what} (exit ${ran.code}): ${words}`);
  }

  async #addresses(spec: FirewallApply, signal: AbortSignal): Promise<{ id: string | null; addresses: string[] }> {
    try {
      const inspect = await this.#docker.inspectContainer(spec.container, signal);
      return { id: typeof inspect.Id === "string" ? inspect.Id : null, addresses: containerAddresses(inspect) };
    } catch (error) {
      // Not created yet (or gone): the chain waits, unentered, until a container of that name starts.
      if (error instanceof DockerError && error.status === 404) return { id: null, addresses: [] };
      throw error;
    }
  }

  /** Writes the server's chain for its container's current addresses, and follows the container from now on. */
  apply(spec: FirewallApply, signal: AbortSignal): Promise<FirewallOpResults["firewall.apply"]> {
    return this.#locked(() => this.#write(spec, signal));
  }

  async #write(spec: FirewallApply, signal: AbortSignal): Promise<FirewallOpResults["firewall.apply"]> {
    const { id, addresses } = await this.#addresses(spec, signal);
    const chain = firewallChainName(spec.server);
    const current = parseChains(await this.#iptablesSave(signal)).get(chain);
    await this.#restoreTx(renderApply(chain, addresses, spec, current?.jumps ?? []), `apply the rules of server ${spec.server}`, signal);
    this.#applied.set(spec.server, { spec, containerId: id });
    this.#log.info("firewall applied", { server: spec.server, chain, addresses, rules: spec.rules.length });
    return { server: spec.server, chain, addresses, rules: spec.rules.length, container: id };
  }

  /** Takes the server's chain and its jumps away; stops following its container. */
  remove(server: string, signal: AbortSignal): Promise<FirewallOpResults["firewall.remove"]> {
    return this.#locked(async () => {
      this.#applied.delete(server);
      const chain = firewallChainName(server);
      const current = parseChains(await this.#iptablesSave(signal)).get(chain);
      if (current) await this.#restoreTx(renderRemove(chain, current.jumps), `remove the rules of server ${server}`, signal);
      this.#log.info("firewall removed", { server, chain, existed: current !== undefined });
      return { server, chain, removed: current !== undefined };
    });
  }

  list(signal: AbortSignal): Promise<FirewallOpResults["firewall.list"]> {
    return this.#locked(async () => {
      const chains: FirewallChainState[] = [];
      for (const [chain, state] of parseChains(await this.#iptablesSave(signal))) {
        if (chain.startsWith(CHAIN_PREFIX)) chains.push({ chain, addresses: state.addresses });
      }
      return { chains };
    });
  }

  /** A Docker event: when it concerns a followed server's container, its jumps follow the new addresses. */
  onEvent(event: DockerEvent): void {
    if (this.#applied.size === 0) return;
    let containerId: string | undefined;
    if (event.type === "container" && ["start", "die", "destroy"].includes(event.action)) containerId = event.id;
    else if (event.type === "network" && (event.action === "connect" || event.action === "disconnect"))
      containerId = event.attributes.container;
    if (!containerId) return;
    for (const [server, applied] of this.#applied) {
      const { spec } = applied;
      const byName = event.type === "container" && event.attributes.name === spec.container.replace(/^\//, "");
      const byId =
        applied.containerId === containerId || (/^[0-9a-f]{12,64}$/.test(spec.container) && containerId.startsWith(spec.container));
      const byLabel = event.type === "container" && event.attributes[SERVER_LABEL] === server;
      if (byName || byId || byLabel) void this.#follow(server, spec);
    }
  }

  async #follow(server: string, spec: FirewallApply): Promise<void> {
    try {
      await this.#locked(async () => {
        // Still the ruleset in force? A remove or a newer apply since the event wins.
        if (this.#applied.get(server)?.spec !== spec) return;
        await this.#write(spec, this.#stopping.signal);
      });
    } catch (error) {
      this.#log.warn("firewall not re-applied after a container change", { server, error });
    }
  }
}
