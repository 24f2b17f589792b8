// Ports as typed in one field: container ports separated by commas, each optionally published on
// a host port (`8080:80`) and optionally `/udp` or `/tcp` (`80, 8443:443, 53/udp`).

export interface PortEntry {
  container_port: number;
  host_port?: number;
  protocol?: "tcp" | "udp";
}

const port = (text: string | undefined): number => {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : 0;
};

/** The ports typed, or undefined when a part is not a port (1–65535). An empty field is no ports. */
export function parsePorts(text: string): PortEntry[] | undefined {
  const out: PortEntry[] = [];
  for (const part of text.split(",").map((p) => p.trim())) {
    if (!part) continue;
    const m = /^(?:(\d{1,5}):)?(\d{1,5})(?:\/(tcp|udp))?$/i.exec(part);
    if (!m) return undefined;
    const [hostPort, containerPort] = [m[1] === undefined ? undefined : port(m[1]), port(m[2])];
    if (!containerPort || hostPort === 0) return undefined;
    out.push({
      container_port: containerPort,
      ...(hostPort ? { host_port: hostPort } : {}),
      ...(m[3] ? { protocol: m[3].toLowerCase() as "tcp" | "udp" } : {}),
    });
  }
  return out;
}

/** The field's text for ports the API answered. */
export const portsText = (ports: readonly PortEntry[]): string =>
  ports.map((p) => `${p.host_port ? `${p.host_port}:` : ""}${p.container_port}${p.protocol === "udp" ? "/udp" : ""}`).join(", ");
