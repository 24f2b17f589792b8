// Projects → environments → applications and databases, and the project's activity.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";
import { api, ok, type Schemas } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { useCan, useMyAccess } from "../api/session.ts";
import { HostOptions } from "../components/host-options.tsx";
import { PageTitle } from "../components/layout.tsx";
import { Button } from "../components/ui/button.tsx";
import { Card, Empty, ErrorNote, StateBadge } from "../components/ui/card.tsx";
import { Dialog } from "../components/ui/dialog.tsx";
import { Field, Input, Select } from "../components/ui/input.tsx";
import { useToast } from "../components/ui/toast.tsx";
import { ago } from "../lib/format.ts";

export function ProjectsPage() {
  const can = useCan();
  // A project-scoped member cannot create projects (an admin creates one and adds it to theirs);
  // until the caller's access is read, the button waits rather than show and vanish.
  const access = useMyAccess();
  const scoped = access ? access.project_ids !== null : true;
  const qc = useQueryClient();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const projects = useQuery({
    queryKey: keys.projects.list(),
    queryFn: () => ok(api.GET("/api/v1/projects", { params: { query: { limit: 200 } } })),
  });
  const create = useMutation({
    mutationFn: (body: Schemas["NewProjectRequest"]) => ok(api.POST("/api/v1/projects", { body })),
    onSuccess: () => {
      toast.ok("Project created");
      setOpen(false);
      void qc.invalidateQueries({ queryKey: keys.projects.all });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const description = String(f.get("description") ?? "");
    create.mutate({ name: String(f.get("name")), ...(description ? { description } : {}) });
  };
  return (
    <>
      <PageTitle actions={can.operate && !scoped ? <Button onClick={() => setOpen(true)}>New project</Button> : null}>Projects</PageTitle>
      <Dialog open={open} onOpenChange={setOpen} title="New project">
        <form onSubmit={submit} className="grid gap-3">
          <Field label="Name">
            <Input name="name" required maxLength={64} />
          </Field>
          <Field label="Description">
            <Input name="description" maxLength={500} />
          </Field>
          <ErrorNote error={create.error} />
          <Button type="submit" busy={create.isPending}>
            Create
          </Button>
        </form>
      </Dialog>
      <Card>
        <ErrorNote error={projects.error} />
        {projects.data?.projects.length === 0 ? <Empty>No project yet.</Empty> : null}
        <ul className="divide-y divide-zinc-200 dark:divide-zinc-800">
          {projects.data?.projects.map((p) => (
            <li key={p.id} className="py-2">
              <Link
                to="/projects/$projectId"
                params={{ projectId: p.id }}
                className="font-medium text-sky-700 hover:underline dark:text-sky-400"
              >
                {p.name}
              </Link>
              {p.description ? <span className="ml-2 text-sm text-zinc-500">{p.description}</span> : null}
            </li>
          ))}
        </ul>
      </Card>
    </>
  );
}

export function ProjectPage() {
  const { projectId } = useParams({ from: "/app/projects/$projectId" });
  const can = useCan();
  const [creating, setCreating] = useState(false);
  const [creatingDb, setCreatingDb] = useState(false);
  const project = useQuery({
    queryKey: keys.projects.detail(projectId),
    queryFn: () => ok(api.GET("/api/v1/projects/{id}", { params: { path: { id: projectId } } })),
  });
  const p = project.data;
  return (
    <>
      <PageTitle
        actions={
          can.operate && p ? (
            <>
              <Button variant="secondary" onClick={() => setCreatingDb(true)}>
                New database
              </Button>
              <Button onClick={() => setCreating(true)}>New application</Button>
            </>
          ) : null
        }
      >
        <Link to="/projects" className="text-zinc-500 hover:underline">
          Projects
        </Link>{" "}
        / {p?.name ?? "…"}
      </PageTitle>
      {project.isPending ? <p className="text-sm text-zinc-500">Loading…</p> : null}
      <ErrorNote error={project.error} />
      {p ? <NewApplication open={creating} onOpenChange={setCreating} project={p} /> : null}
      {p ? <NewDatabase open={creatingDb} onOpenChange={setCreatingDb} project={p} /> : null}
      <div className="grid gap-4">
        {p?.environments.map((env) => {
          const apps = p.applications.filter((a) => a.environment_id === env.id);
          const dbs = p.databases.filter((d) => d.environment_id === env.id);
          return (
            <Card key={env.id} title={`${env.name}${env.is_default ? " (default)" : ""}`}>
              {apps.length === 0 && dbs.length === 0 ? <Empty>Nothing in this environment yet.</Empty> : null}
              <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
                {apps.map((a) => (
                  <li key={a.id} className="flex items-center justify-between py-2" data-testid="application-row">
                    <Link
                      to="/applications/$applicationId"
                      params={{ applicationId: a.id }}
                      className="font-medium text-sky-700 hover:underline dark:text-sky-400"
                    >
                      {a.name}
                    </Link>
                    <StateBadge state={a.status} />
                  </li>
                ))}
                {dbs.map((d) => (
                  <li key={d.id} className="flex items-center justify-between py-2" data-testid="database-row">
                    <span>
                      <Link
                        to="/databases/$databaseId"
                        params={{ databaseId: d.id }}
                        className="font-medium text-sky-700 hover:underline dark:text-sky-400"
                      >
                        {d.name}
                      </Link>{" "}
                      <span className="text-zinc-500">({d.engine})</span>
                    </span>
                    <span className="flex items-center gap-2 text-zinc-500">
                      {ago(d.created_at)} <StateBadge state={d.status} />
                    </span>
                  </li>
                ))}
              </ul>
            </Card>
          );
        })}
        {p ? <ProjectActivity project={p} /> : null}
      </div>
    </>
  );
}

/** Who did what to the project and what it holds, newest first, older pages on demand. */
function ProjectActivity({ project }: { project: Schemas["ProjectDetail"] }) {
  const activity = useInfiniteQuery({
    queryKey: keys.projects.activity(project.id),
    queryFn: ({ pageParam }) =>
      ok(
        api.GET("/api/v1/projects/{id}/activity", {
          params: { path: { id: project.id }, query: { limit: 25, ...(pageParam ? { cursor: pageParam } : {}) } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
  });
  const names = new Map<string, string>([
    ...project.environments.map((e) => [e.id, `environment ${e.name}`] as const),
    ...project.applications.map((a) => [a.id, a.name] as const),
    ...project.databases.map((d) => [d.id, d.name] as const),
    [project.id, "the project"],
  ]);
  const events = activity.data?.pages.flatMap((pg) => pg.activity) ?? [];
  return (
    <Card title="Activity">
      {activity.isPending ? <p className="text-sm text-zinc-500">Loading…</p> : null}
      <ErrorNote error={activity.error} />
      {activity.data && events.length === 0 ? <Empty>Nothing has happened here yet.</Empty> : null}
      <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
        {events.map((e) => (
          <li
            key={e.id}
            className="flex flex-wrap items-baseline justify-between gap-2 py-1.5"
            data-testid="activity"
            data-action={e.action}
          >
            <span>
              <span className="font-mono text-xs">{e.action}</span>{" "}
              <ActivityTarget event={e} name={e.target_id ? names.get(e.target_id) : undefined} />
            </span>
            <span className="text-xs text-zinc-500">
              {e.actor_name ?? e.actor_type} · {ago(e.created_at)}
            </span>
          </li>
        ))}
      </ul>
      {activity.hasNextPage ? (
        <div className="mt-2 flex justify-center">
          <Button size="sm" variant="secondary" busy={activity.isFetchingNextPage} onClick={() => void activity.fetchNextPage()}>
            Older
          </Button>
        </div>
      ) : null}
    </Card>
  );
}

function ActivityTarget({ event, name }: { event: Schemas["ProjectActivity"]; name: string | undefined }) {
  const id = event.target_id;
  if (!id) return null;
  const cls = "text-sky-700 hover:underline dark:text-sky-400";
  if (event.target_type === "application")
    return (
      <Link to="/applications/$applicationId" params={{ applicationId: id }} className={cls}>
        {name ?? id}
      </Link>
    );
  if (event.target_type === "database")
    return (
      <Link to="/databases/$databaseId" params={{ databaseId: id }} className={cls}>
        {name ?? id}
      </Link>
    );
  return <span className="text-zinc-500">{name ?? id}</span>;
}

const BUILD_TYPES = ["dockerfile", "static", "compose", "nixpacks", "heroku_buildpacks", "paketo_buildpacks", "railpack"] as const;

/** The project's environment a new application or database goes into; the default one first chosen. */
function EnvironmentField({ project }: { project: Schemas["ProjectDetail"] }) {
  return (
    <Field label="Environment">
      <Select name="environment_id" defaultValue={project.environments.find((e) => e.is_default)?.id}>
        {project.environments.map((e) => (
          <option key={e.id} value={e.id}>
            {e.name}
          </option>
        ))}
      </Select>
    </Field>
  );
}

function NewApplication({
  open,
  onOpenChange,
  project,
}: {
  open: boolean;
  onOpenChange: (o: boolean) => void;
  project: Schemas["ProjectDetail"];
}) {
  const qc = useQueryClient();
  const toast = useToast();
  const create = useMutation({
    mutationFn: (body: Schemas["NewApplicationRequest"]) => ok(api.POST("/api/v1/applications", { body })),
    onSuccess: () => {
      toast.ok("Application created");
      onOpenChange(false);
      void qc.invalidateQueries({ queryKey: keys.projects.detail(project.id) });
      void qc.invalidateQueries({ queryKey: keys.projects.activity(project.id) });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const get = (k: string) => String(f.get(k) ?? "").trim();
    create.mutate({
      name: get("name"),
      project_id: project.id,
      environment_id: get("environment_id"),
      git_url: get("git_url") || null,
      ...(get("git_branch") ? { git_branch: get("git_branch") } : {}),
      build_type: get("build_type") as (typeof BUILD_TYPES)[number],
      host_id: get("host_id") || null,
    });
  };
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title="New application"
      description="Built from a Git repository and run on one of your hosts."
    >
      <form onSubmit={submit} className="grid gap-3">
        <Field label="Name">
          <Input name="name" required maxLength={64} />
        </Field>
        <EnvironmentField project={project} />
        <Field label="Git URL">
          <Input name="git_url" placeholder="https://github.com/you/app.git" />
        </Field>
        <Field label="Branch">
          <Input name="git_branch" placeholder="main" />
        </Field>
        <Field label="Build type">
          <Select name="build_type" defaultValue="dockerfile">
            {BUILD_TYPES.map((b) => (
              <option key={b}>{b}</option>
            ))}
          </Select>
        </Field>
        <Field label="Host">
          <Select name="host_id">
            <HostOptions status />
          </Select>
        </Field>
        <ErrorNote error={create.error} />
        <Button type="submit" busy={create.isPending}>
          Create
        </Button>
      </form>
    </Dialog>
  );
}

const DATABASE_ENGINES: readonly Schemas["NewDatabaseRequest"]["engine"][] = ["postgres", "mysql", "mariadb", "mongo", "redis"];

/** A database service in one of the project's environments (Dokploy's "Create service → Database"). */
function NewDatabase({
  open,
  onOpenChange,
  project,
}: {
  open: boolean;
  onOpenChange: (o: boolean) => void;
  project: Schemas["ProjectDetail"];
}) {
  const qc = useQueryClient();
  const toast = useToast();
  const create = useMutation({
    mutationFn: (body: Schemas["NewDatabaseRequest"]) => ok(api.POST("/api/v1/databases", { body })),
    onSuccess: (db) => {
      toast.ok(`Database ${db.name} created`);
      onOpenChange(false);
      void qc.invalidateQueries({ queryKey: keys.projects.detail(project.id) });
      void qc.invalidateQueries({ queryKey: keys.projects.activity(project.id) });
      void qc.invalidateQueries({ queryKey: keys.databases.all });
    },
  });
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const get = (k: string) => String(f.get(k) ?? "").trim();
    create.mutate({
      name: get("name"),
      project_id: project.id,
      environment_id: get("environment_id"),
      engine: get("engine") as Schemas["NewDatabaseRequest"]["engine"],
      ...(get("host_id") ? { host_id: get("host_id") } : {}),
      ...(get("image") ? { image: get("image") } : {}),
      start: f.get("start") === "on",
    });
  };
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title="New database"
      description="A database container on one of your hosts, on the project's network, its data in a named volume; the password is generated and stored encrypted."
    >
      <form onSubmit={submit} className="grid gap-3">
        <Field label="Name">
          <Input name="name" required maxLength={64} />
        </Field>
        <EnvironmentField project={project} />
        <Field label="Engine">
          <Select name="engine" defaultValue="postgres">
            {DATABASE_ENGINES.map((engine) => (
              <option key={engine}>{engine}</option>
            ))}
          </Select>
        </Field>
        <Field label="Image" hint="Leave empty for the official one">
          <Input name="image" placeholder="postgres:16" />
        </Field>
        <Field label="Host">
          <Select name="host_id">
            <HostOptions status />
          </Select>
        </Field>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="start" defaultChecked /> Start it now
        </label>
        <ErrorNote error={create.error} />
        <Button type="submit" busy={create.isPending}>
          Create
        </Button>
      </form>
    </Dialog>
  );
}
