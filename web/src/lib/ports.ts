// A role's ports as typed in one field: container ports separated by commas, each optionally
// `/udp` or `/tcp` (`80, 443, 53/udp`).

export interface PortEntry {
  container_port: number;
  protocol?: "tcp" | "udp";
}

/** The ports typed, or undefined when a part is not a port (1–65535). An empty field is no ports. */
export function parsePorts(text: string): PortEntry[] | undefined {
  const out: PortEntry[] = [];
  for (const part of text.split(",").map((p) => p.trim())) {
    if (!part) continue;
    const m = /^(\d{1,5})(?:\/(tcp|udp))?$/i.exec(part);
    const port = m ? Number(m[1]) : 0;
    if (!m || port < 1 || port > 65535) return undefined;
    out.push({ container_port: port, ...(m[2] ? { protocol: m[2].toLowerCase() as "tcp" | "udp" } : {}) });
  }
  return out;
}

/** The field's text for ports the API answered. */
export const portsText = (ports: readonly PortEntry[]): string =>
  ports.map((p) => `${p.container_port}${p.protocol === "udp" ? "/udp" : ""}`).join(", ");
