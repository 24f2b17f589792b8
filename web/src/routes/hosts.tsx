import { Link } from "@tanstack/react-router";
import { useHosts } from "../api/hosts.ts";
import { useState } from "react";
import type { Schemas } from "../api/client.ts";
import { useCan } from "../api/session.ts";
import { AttachHost } from "../components/attach-host.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, StateBadge } from "../components/ui/card.tsx";
import { DataTable, type TableSpec, ROW_LINK } from "../components/ui/data-table.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { ago } from "../lib/format.ts";

type Host = Schemas["Host"];

const HOSTS: TableSpec<Host> = {
  columns: [
    { header: "Name", cell: (h) => <HostLink host={h} /> },
    { header: "State", cell: (h) => <StateBadge state={h.status} data-testid="host-status" /> },
    { header: "Containers", cell: (h) => (h.containers ? `${h.containers.running} running / ${h.containers.total}` : "—") },
    { header: "Engine", hideBelow: "sm", cell: (h) => h.engine_version ?? "—" },
    { header: "Last seen", hideBelow: "sm", cell: (h) => ago(h.last_seen_at) },
  ],
  empty: "No host yet.",
  rowProps: (h) => ({ "data-testid": "host-row", "data-host": h.name }),
};

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
        <DataTable spec={HOSTS} state={hosts} rows={hosts.data?.hosts} />
      </Card>
    </>
  );
}

function HostLink({ host }: { host: Host }) {
  return (
    <Link to="/docker-hosts/$hostId" params={{ hostId: host.id }} className={ROW_LINK}>
      {host.name}
    </Link>
  );
}
