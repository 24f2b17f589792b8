// The organization's container registries: credentials are checked from a host before they are
// saved (the API answers the registry's own refusal as a 422, shown in the form), and the secret
// is never answered back, only its mask.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { useCan } from "../api/session.ts";
import { ApiForm, SecretField } from "../components/api-form.tsx";
import { HostOptions } from "../components/host-options.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card } from "../components/ui/card.tsx";
import { DataTable, type TableSpec, RemoveButton } from "../components/ui/data-table.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { ago } from "../lib/format.ts";
import { useList } from "../lib/use-list.ts";

const registryKeys = { all: ["registries"] as const };

type Registry = Schemas["Registry"];

const REGISTRIES: TableSpec<Registry> = {
  columns: [
    { header: "Server", className: "font-medium break-all", cell: (r) => r.server },
    { header: "Username", className: "break-all", cell: (r) => r.username },
    { header: "Secret", hideBelow: "sm", className: "font-mono", cell: (r) => r.password },
    { header: "Verified", hideBelow: "sm", cell: (r) => ago(r.verified_at) },
  ],
  empty: "No registry yet: pulls use anonymous access.",
  rowProps: (r) => ({ "data-testid": "registry-row", "data-server": r.server }),
};

export function RegistriesPage() {
  const can = useCan();
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const { list, remove } = useList(
    { queryKey: registryKeys.all, queryFn: () => ok(api.GET("/api/v1/registries")) },
    {
      run: (r: Registry) => ok(api.DELETE("/api/v1/registries/{id}", { params: { path: { id: r.id } } })),
      confirm: (r) => `Forget the credentials for ${r.server}?`,
      done: () => "Registry removed",
      id: (r) => r.id,
    },
  );
  return (
    <>
      <PageTitle actions={can.admin ? <Button onClick={() => setAdding(true)}>Add registry</Button> : null}>Registries</PageTitle>
      <Dialog
        open={adding}
        onOpenChange={setAdding}
        title="Add a registry"
        description="Pier checks these credentials from one of your hosts, as docker login does, before saving them."
      >
        <AddRegistry
          onDone={() => {
            setAdding(false);
            void qc.invalidateQueries({ queryKey: registryKeys.all });
          }}
        />
      </Dialog>
      <Card>
        <DataTable
          spec={REGISTRIES}
          state={list}
          rows={list.data?.registries}
          actions={can.admin ? (r) => <RemoveButton busy={remove.busy(r)} onClick={() => remove.run(r)} /> : undefined}
        />
      </Card>
    </>
  );
}

function AddRegistry({ onDone }: { onDone: () => void }) {
  const [server, setServer] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [hostId, setHostId] = useState("");
  return (
    <ApiForm
      submit={() =>
        ok(
          api.POST("/api/v1/registries", {
            body: { server: server.trim(), username, password, ...(hostId ? { verify_host_id: hostId } : {}) },
          }),
        )
      }
      done={(r) => `${r.server} verified and saved`}
      onDone={onDone}
      action="Verify and save"
    >
      <Field label="Server" hint="host[:port]; Docker Hub is docker.io">
        <Input name="server" required value={server} onChange={(e) => setServer(e.target.value)} placeholder="ghcr.io" />
      </Field>
      <Field label="Username">
        <Input name="username" required autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
      </Field>
      <SecretField label="Password or token" name="password" required value={password} onChange={setPassword} />
      <Field label="Verify from" hint="The host whose Docker engine checks the credentials">
        <Select name="verify_host_id" value={hostId} onChange={(e) => setHostId(e.target.value)}>
          <option value="">Any online host</option>
          <HostOptions status />
        </Select>
      </Field>
    </ApiForm>
  );
}
