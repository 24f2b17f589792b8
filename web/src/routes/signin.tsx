import { useQueryClient } from "@tanstack/react-query";
import { useNavigate, useSearch } from "@tanstack/react-router";
import { useState, type FormEvent } from "react";
import { errorText } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { browserLogin } from "../api/session.ts";
import { Button } from "../components/ui/button.tsx";
import { ErrorNote } from "../components/ui/card.tsx";
import { Field, Input } from "../components/ui/input.tsx";

export function SignInPage() {
  const { next } = useSearch({ from: "/signin" });
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const { user } = await browserLogin(String(form.get("login")), String(form.get("password")));
      qc.clear();
      qc.setQueryData(keys.me, user);
      // Only a path of this app: never an absolute URL from the query string.
      await navigate({ to: next?.startsWith("/") && !next.startsWith("//") ? next : "/" });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthFrame title="Sign in to Pier">
      <form onSubmit={submit} className="grid gap-3">
        <Field label="Username or email">
          <Input name="login" autoComplete="username" required autoFocus />
        </Field>
        <Field label="Password">
          <Input name="password" type="password" autoComplete="current-password" required />
        </Field>
        {error ? <ErrorNote error={error} /> : null}
        <Button type="submit" busy={busy}>
          Sign in
        </Button>
      </form>
    </AuthFrame>
  );
}

export function AuthFrame({ title, children, wide }: { title: string; children: React.ReactNode; wide?: boolean }) {
  return (
    <main className="grid min-h-dvh place-items-center p-4">
      <div
        className={`w-full ${wide ? "max-w-2xl" : "max-w-sm"} rounded-lg border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900`}
      >
        <h1 className="mb-4 text-lg font-semibold">{title}</h1>
        {children}
      </div>
    </main>
  );
}
