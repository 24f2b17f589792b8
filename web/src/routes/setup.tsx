// First run: create the owner (when Pier has no user yet), then attach the first host.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";
import { api, errorText, ok } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { browserLogin, fetchMe, fetchSetup } from "../api/session.ts";
import { AttachHost } from "../components/attach-host.tsx";
import { Button } from "../components/ui/button.tsx";
import { ErrorNote } from "../components/ui/card.tsx";
import { Field, Input } from "../components/ui/input.tsx";
import { AuthFrame } from "./signin.tsx";

export function SetupPage() {
  const setup = useQuery({ queryKey: keys.setup, queryFn: fetchSetup });
  const me = useQuery({ queryKey: keys.me, queryFn: fetchMe, retry: false });
  if (setup.isPending || me.isPending) return <AuthFrame title="Welcome to Pier">Loading…</AuthFrame>;
  if (setup.error)
    return (
      <AuthFrame title="Welcome to Pier">
        <ErrorNote error={setup.error} />
      </AuthFrame>
    );
  if (setup.data.needs_owner) return <CreateOwner />;
  if (!me.data)
    return (
      <AuthFrame title="Welcome to Pier">
        <p className="text-sm">
          Pier has its owner.{" "}
          <Link to="/signin" className="text-sky-600 underline">
            Sign in
          </Link>
          .
        </p>
      </AuthFrame>
    );
  return (
    <AuthFrame title="Attach your first host" wide>
      <AttachHost localHostAvailable={setup.data.local_host.available && !setup.data.local_host.host_id} />
      <p className="mt-6 text-sm">
        <Link to="/" className="text-sky-600 underline">
          Skip to the overview
        </Link>
      </p>
    </AuthFrame>
  );
}

function CreateOwner() {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const body = { email: String(f.get("email")), username: String(f.get("username")), password: String(f.get("password")) };
    setBusy(true);
    setError(null);
    try {
      await ok(api.POST("/api/v1/auth/register", { body }));
      const { user } = await browserLogin(body.username, body.password);
      qc.setQueryData(keys.me, user);
      await qc.invalidateQueries({ queryKey: keys.setup });
      await navigate({ to: "/setup" });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthFrame title="Create the owner">
      <p className="mb-4 text-sm text-zinc-500">Pier has no user yet. The first one owns this installation.</p>
      <form onSubmit={submit} className="grid gap-3">
        <Field label="Email">
          <Input name="email" type="email" autoComplete="email" required autoFocus />
        </Field>
        <Field label="Username">
          <Input name="username" autoComplete="username" required />
        </Field>
        <Field label="Password" hint="At least 6 characters">
          <Input name="password" type="password" autoComplete="new-password" required minLength={6} />
        </Field>
        {error ? <ErrorNote error={error} /> : null}
        <Button type="submit" busy={busy}>
          Create owner
        </Button>
      </form>
    </AuthFrame>
  );
}
