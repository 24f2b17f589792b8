// The SSRF guard: channel URLs must point at public endpoints.
import ipaddr from "ipaddr.js";
import type { Bindings } from "../../env.ts";
import { invalid } from "../../errors.ts";
import { URL_FIELDS } from "./config.ts";
import { privateUrlsAllowed } from "../../settings.ts";

/**
 * True unless the host is a name or a globally routable (`unicast`) address. ipaddr.js knows the
 * special ranges (loopback, private, link-local, CGNAT, site-local `fec0::/10`, multicast,
 * documentation, reserved…) and reads every IPv4 spelling (`2130706433`, `0x7f000001`, `127.1`).
 * Addresses that embed an IPv4 address for a gateway to unwrap — NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`, Teredo — are refused whatever they embed; an IPv4-mapped one is judged by its IPv4.
 * Names that resolve locally by convention (`localhost`, `*.local`, `*.internal`) are refused too.
 * Other names are not resolved (Workers have no DNS API), so a public name pointing at a private
 * address is not caught here; Cloudflare's own egress does not reach private networks anyway.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return true;
  if (!ipaddr.isValid(host)) return false;
  let address = ipaddr.parse(host);
  if (address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()) address = (address as ipaddr.IPv6).toIPv4Address();
  return address.range() !== "unicast";
}

export { privateUrlsAllowed };

export function checkUrls(env: Bindings, config: Record<string, unknown>): void {
  if (privateUrlsAllowed(env)) return;
  const errors = URL_FIELDS.filter(
    (field) => typeof config[field] === "string" && isPrivateHost(new URL(config[field] as string).hostname),
  ).map((field) => ({
    pointer: `/body/config/${field}`,
    detail:
      "points at a loopback or private address; Pier only delivers to public endpoints (set PIER_ALLOW_PRIVATE_URLS=true for local testing)",
  }));
  if (errors.length > 0) throw invalid(errors);
}
