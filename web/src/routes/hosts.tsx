import { useQuery } from "@tanstack/react-query";
import { Link } from "@tanstack/react-router";
import { useState } from "react";
import { api, ok } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { AttachHost } from "../components/attach-host.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { ago } from "../lib/format.ts";

export const useHosts = () =>
  useQuery({ queryKey: keys.hosts.list(), queryFn: () => ok(api.GET("/api/v1/hosts", { params: { query: { limit: 100 } } })) });

export function HostsPage() {
  const hosts = useHosts();
  const can = useCan();
  const [adding, setAdding] = useState(false);
  return (
    <>
      <PageTitle actions={can.admin ? <Button onClick={() => setAdding(true)}>Add host</Button> : null}>Hosts</PageTitle>
      <Dialog
        open={adding}
        onOpenChange={setAdding}
        title="Attach a host"
        description="The agent connects out to Pier: no port to open on the host."
      >
        <AttachHost />
      </Dialog>
      <Card>
        <ErrorNote error={hosts.error} />
        {hosts.data?.hosts.length === 0 ? <Empty>No host yet.</Empty> : null}
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-zinc-500 uppercase">
              <tr>
                <th className="py-2 pr-3">Name</th>
                <th className="py-2 pr-3">State</th>
                <th className="py-2 pr-3">Containers</th>
                <th className="hidden py-2 pr-3 sm:table-cell">Engine</th>
                <th className="hidden py-2 pr-3 sm:table-cell">Last seen</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
              {hosts.data?.hosts.map((h) => (
                <tr key={h.id} data-testid="host-row" data-host={h.name}>
                  <td className="py-2 pr-3">
                    <Link
                      to="/docker-hosts/$hostId"
                      params={{ hostId: h.id }}
                      className="font-medium text-sky-700 hover:underline dark:text-sky-400"
                    >
                      {h.name}
                    </Link>
                  </td>
                  <td className="py-2 pr-3">
                    <StateBadge state={h.status} data-testid="host-status" />
                  </td>
                  <td className="py-2 pr-3">{h.containers ? `${h.containers.running} running / ${h.containers.total}` : "—"}</td>
                  <td className="hidden py-2 pr-3 sm:table-cell">{h.engine_version ?? "—"}</td>
                  <td className="hidden py-2 pr-3 sm:table-cell">{ago(h.last_seen_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </>
  );
}
