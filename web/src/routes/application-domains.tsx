// An application's domains: each becomes Traefik labels on its container at the next deployment.
// The API validates names (and their uniqueness in the organization); its per-field messages are
// shown beside the field they are about.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldError, ok, type Schemas } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan } from "../api/session.ts";
import { Button } from "../components/ui/button.tsx";
import { Card, Empty, ErrorNote } from "../components/ui/card.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { useToast } from "../components/ui/toast.tsx";

type Domain = Schemas["Domain"];

export const domainUrl = (d: Pick<Domain, "host" | "path" | "https">) =>
  `${d.https ? "https" : "http"}://${d.host}${d.path === "/" ? "" : d.path}`;

export function DomainsCard({ applicationId: id }: { applicationId: string }) {
  const can = useCan();
  const qc = useQueryClient();
  const toast = useToast();
  const [adding, setAdding] = useState(false);
  const list = useQuery({
    queryKey: keys.applications.domains(id),
    queryFn: () => ok(api.GET("/api/v1/applications/{id}/domains", { params: { path: { id } } })),
  });
  const remove = useMutation({
    mutationFn: (domainId: string) => ok(api.DELETE("/api/v1/domains/{id}", { params: { path: { id: domainId } } })),
    onSuccess: () => {
      toast.ok("Domain removed: its route goes at the next deployment");
      void qc.invalidateQueries({ queryKey: keys.applications.domains(id) });
    },
    onError: (err) => toast.error(err),
  });
  const domains = list.data?.domains ?? [];
  return (
    <Card
      title="Domains"
      actions={
        can.operate && !adding ? (
          <Button size="sm" onClick={() => setAdding(true)}>
            Add domain
          </Button>
        ) : null
      }
    >
      <p className="mb-3 text-sm text-zinc-500">Domains route to the container through Traefik on its host, from the next deployment on.</p>
      {list.isPending ? <p className="text-sm text-zinc-500">Loading…</p> : null}
      <ErrorNote error={list.error} />
      {adding ? (
        <AddDomain
          applicationId={id}
          onDone={() => {
            setAdding(false);
            void qc.invalidateQueries({ queryKey: keys.applications.domains(id) });
          }}
        />
      ) : null}
      {list.data && domains.length === 0 && !adding ? (
        <Empty>No domain: the application is reachable only on its host's ports.</Empty>
      ) : null}
      <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
        {domains.map((d) => (
          <li key={d.id} className="flex flex-wrap items-center justify-between gap-2 py-2" data-testid="domain" data-host={d.host}>
            <span className="min-w-0">
              <a
                href={domainUrl(d)}
                target="_blank"
                rel="noreferrer"
                className="font-medium break-all text-sky-700 hover:underline dark:text-sky-400"
              >
                {domainUrl(d)}
              </a>
              <span className="ml-2 text-xs text-zinc-500">
                → port {d.container_port ?? "default"}
                {d.https ? ` · certificate: ${d.certificate_type}` : ""}
              </span>
            </span>
            {can.operate ? (
              <Button
                size="sm"
                variant="ghost"
                busy={remove.isPending && remove.variables === d.id}
                onClick={() => {
                  if (window.confirm(`Remove ${d.host}?`)) remove.mutate(d.id);
                }}
              >
                Remove
              </Button>
            ) : null}
          </li>
        ))}
      </ul>
    </Card>
  );
}

function AddDomain({ applicationId: id, onDone }: { applicationId: string; onDone: () => void }) {
  const toast = useToast();
  const [https, setHttps] = useState(true);
  const add = useMutation({
    mutationFn: (body: Schemas["DomainRequest"]) => ok(api.POST("/api/v1/applications/{id}/domains", { params: { path: { id } }, body })),
    onSuccess: (d) => {
      toast.ok(`${d.host} added: it routes from the next deployment`);
      onDone();
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const port = String(f.get("container_port") ?? "").trim();
    const path = String(f.get("path") ?? "").trim();
    add.mutate({
      host: String(f.get("host") ?? "").trim(),
      https,
      certificate_type: https ? "letsencrypt" : "none",
      ...(path ? { path } : {}),
      // Sent as typed: a non-number gets the API's own message beside the field.
      ...(port ? { container_port: Number(port) } : {}),
    });
  };
  const hostError = fieldError(add.error, "host");
  const portError = fieldError(add.error, "container_port");
  const pathError = fieldError(add.error, "path");
  const inline = hostError || portError || pathError;
  return (
    <form
      onSubmit={submit}
      className="mb-3 grid gap-3 rounded-md border border-zinc-200 p-3 sm:grid-cols-2 dark:border-zinc-800"
      noValidate
    >
      <Field label="Host name" error={hostError}>
        <Input name="host" placeholder="shop.example.com" aria-invalid={hostError ? true : undefined} autoFocus />
      </Field>
      <Field label="Path" error={pathError}>
        <Input name="path" placeholder="/" aria-invalid={pathError ? true : undefined} />
      </Field>
      <Field label="Container port" error={portError} hint="Default: the application's first port, else 80">
        <Input name="container_port" inputMode="numeric" aria-invalid={portError ? true : undefined} />
      </Field>
      <Field label="Protocol">
        <Select value={https ? "https" : "http"} onChange={(e) => setHttps(e.target.value === "https")}>
          <option value="https">HTTPS (Let's Encrypt certificate)</option>
          <option value="http">HTTP only</option>
        </Select>
      </Field>
      <div className="sm:col-span-2">
        {/* Field messages sit beside their fields; anything else (a taken name: 409) shows here. */}
        {add.error && !inline ? <ErrorNote error={add.error} /> : null}
      </div>
      <div className="flex justify-end gap-2 sm:col-span-2">
        <Button variant="ghost" onClick={onDone}>
          Cancel
        </Button>
        <Button type="submit" busy={add.isPending}>
          Add domain
        </Button>
      </div>
    </form>
  );
}
