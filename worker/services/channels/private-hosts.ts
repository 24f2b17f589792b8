// The SSRF guard: channel URLs must point at public endpoints.
import type { Bindings } from "../../env.ts";
import { invalid } from "../../errors.ts";
import { URL_FIELDS } from "./config.ts";

function ipv4Private(host: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

/**
 * True for loopback, private, link-local, CGNAT and unspecified addresses and for names that
 * resolve locally by convention (`localhost`, `*.local`, `*.internal`). Names are not resolved
 * (Workers have no DNS API), so a public name pointing at a private address is not caught here;
 * Cloudflare's own egress does not reach private networks anyway.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return true;
  if (ipv4Private(host)) return true;
  if (/^\d+$/.test(host) || /^0x[0-9a-f]+$/i.test(host)) return true; // 2130706433, 0x7f000001: integer IPv4 forms
  if (host.includes(":")) {
    if (host === "::" || host === "::1") return true;
    if (/^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (mapped) return ipv4Private(mapped[1]!);
    if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(host)) return true; // mapped IPv4 in hex form: refuse rather than decode
  }
  return false;
}

export const privateUrlsAllowed = (env: Pick<Bindings, "PIER_ALLOW_PRIVATE_URLS">): boolean => env.PIER_ALLOW_PRIVATE_URLS === "true";

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
