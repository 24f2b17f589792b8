// The organization's container registries: credentials are checked from a host before they are
// saved (the API answers the registry's own refusal as a 422, shown in the form), and the secret
// is never answered back, only its mask.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, ok } from "../api/client.ts";
import { useCan } from "../api/session.ts";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, Empty, ErrorNote } from "../components/ui/card.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";
import { useHosts } from "./hosts.tsx";

const registryKeys = { all: ["registries"] as const };

export function RegistriesPage() {
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const [adding, setAdding] = useState(false);
  const list = useQuery({ queryKey: registryKeys.all, queryFn: () => ok(api.GET("/api/v1/registries")) });
  const remove = useMutation({
    mutationFn: (id: string) => ok(api.DELETE("/api/v1/registries/{id}", { params: { path: { id } } })),
    onSuccess: () => {
      toast.ok("Registry removed");
      void qc.invalidateQueries({ queryKey: registryKeys.all });
    },
    onError: (err) => toast.error(err),
  });
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
        <ErrorNote error={list.error} />
        {list.data?.registries.length === 0 ? <Empty>No registry yet: pulls use anonymous access.</Empty> : null}
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-zinc-500 uppercase">
              <tr>
                <th className="py-2 pr-3">Server</th>
                <th className="py-2 pr-3">Username</th>
                <th className="hidden py-2 pr-3 sm:table-cell">Secret</th>
                <th className="hidden py-2 pr-3 sm:table-cell">Verified</th>
                {can.admin ? (
                  <th className="py-2 pr-3">
                    <span className="sr-only">Actions</span>
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody className="divide-y divide-zinc-200 dark:divide-zinc-800">
              {list.data?.registries.map((r) => (
                <tr key={r.id} data-testid="registry-row" data-server={r.server}>
                  <td className="py-2 pr-3 font-medium break-all">{r.server}</td>
                  <td className="py-2 pr-3 break-all">{r.username}</td>
                  <td className="hidden py-2 pr-3 font-mono sm:table-cell">{r.password}</td>
                  <td className="hidden py-2 pr-3 sm:table-cell">{ago(r.verified_at)}</td>
                  {can.admin ? (
                    <td className="py-2 pr-3 text-right">
                      <Button
                        size="sm"
                        variant="ghost"
                        busy={remove.isPending && remove.variables === r.id}
                        onClick={() => {
                          if (window.confirm(`Forget the credentials for ${r.server}?`)) remove.mutate(r.id);
                        }}
                      >
                        Remove
                      </Button>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
    </>
  );
}

function AddRegistry({ onDone }: { onDone: () => void }) {
  const toast = useToast();
  const hosts = useHosts();
  const [server, setServer] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [hostId, setHostId] = useState("");
  const add = useMutation({
    mutationFn: () =>
      ok(
        api.POST("/api/v1/registries", {
          body: { server: server.trim(), username, password, ...(hostId ? { verify_host_id: hostId } : {}) },
        }),
      ),
    onSuccess: (r) => {
      toast.ok(`${r.server} verified and saved`);
      onDone();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <form className="grid gap-3" onSubmit={submit}>
      <Field label="Server" hint="host[:port]; Docker Hub is docker.io">
        <Input name="server" required value={server} onChange={(e) => setServer(e.target.value)} placeholder="ghcr.io" />
      </Field>
      <Field label="Username">
        <Input name="username" required autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
      </Field>
      <Field label="Password or token">
        <Input
          name="password"
          type="password"
          required
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </Field>
      <Field label="Verify from" hint="The host whose Docker engine checks the credentials">
        <Select name="verify_host_id" value={hostId} onChange={(e) => setHostId(e.target.value)}>
          <option value="">Any online host</option>
          {hosts.data?.hosts.map((h) => (
            <option key={h.id} value={h.id}>
              {h.name} ({h.status})
            </option>
          ))}
        </Select>
      </Field>
      <ErrorNote error={add.error} />
      <div className="flex justify-end">
        <Button type="submit" busy={add.isPending}>
          Verify and save
        </Button>
      </div>
    </form>
  );
}
