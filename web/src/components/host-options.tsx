import { useHosts } from "../api/hosts.ts";

/** The organization's hosts as a select's options (after whatever first option the select offers). */
export function HostOptions({ status = false }: { status?: boolean }) {
  const hosts = useHosts();
  return hosts.data?.hosts.map((h) => (
    <option key={h.id} value={h.id}>
      {status ? `${h.name} (${h.status})` : h.name}
    </option>
  ));
}
