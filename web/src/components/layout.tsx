import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, Outlet, useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { api, ok } from "../api/client.ts";
import { keys } from "../api/keys.ts";
import { browserLogout, useMe } from "../api/session.ts";
import { cn } from "../lib/cn.ts";
import { setTheme, storedTheme, type Theme } from "../lib/theme.ts";
import { LiveEvents } from "./live.tsx";
import { Button } from "./ui/button.tsx";
import { useToast } from "./ui/toast.tsx";

const NAV = [
  { to: "/", label: "Overview", exact: true },
  { to: "/docker-hosts", label: "Hosts" },
  { to: "/servers", label: "Servers" },
  { to: "/projects", label: "Projects" },
  { to: "/notifications", label: "Notifications" },
  { to: "/tasks", label: "Tasks" },
  { to: "/settings", label: "Organization" },
  { to: "/access", label: "Access" },
  { to: "/databases", label: "Databases" },
  { to: "/alerts", label: "Alerts" },
  { to: "/channels", label: "Channels" },
  { to: "/registries", label: "Registries" },
  { to: "/backups", label: "Backups" },
] as const;

export function useUnreadCount(): number {
  return (
    useQuery({
      queryKey: keys.notifications.unread(),
      queryFn: () => ok(api.GET("/api/v1/notifications/unread-count")),
    }).data?.unread_count ?? 0
  );
}

export function AppLayout() {
  const me = useMe();
  const unread = useUnreadCount();
  const [menuOpen, setMenuOpen] = useState(false);
  const [theme, setThemeState] = useState<Theme>(storedTheme());
  const qc = useQueryClient();
  const navigate = useNavigate();
  const toast = useToast();

  const signOut = async () => {
    try {
      await browserLogout();
    } catch (err) {
      toast.error(err);
      return;
    }
    qc.clear();
    await navigate({ to: "/signin" });
  };

  const nextTheme: Record<Theme, Theme> = { system: "light", light: "dark", dark: "system" };

  return (
    <div className="min-h-dvh md:grid md:grid-cols-[13rem_1fr]">
      <LiveEvents />
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2 dark:focus:bg-zinc-900"
      >
        Skip to content
      </a>
      <header className="flex items-center justify-between border-b border-zinc-200 bg-white px-4 py-2 md:hidden dark:border-zinc-800 dark:bg-zinc-900">
        <span className="font-semibold">Pier</span>
        <Button variant="ghost" size="sm" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen((o) => !o)}>
          Menu
        </Button>
      </header>
      <nav
        id="nav"
        aria-label="Main"
        className={cn(
          "flex-col gap-1 border-r border-zinc-200 bg-white p-3 md:sticky md:top-0 md:flex md:h-dvh dark:border-zinc-800 dark:bg-zinc-900",
          menuOpen ? "flex" : "hidden",
        )}
      >
        <span className="mb-3 hidden px-2 text-lg font-semibold md:block">Pier</span>
        {NAV.map((item) => (
          <Link
            key={item.to}
            to={item.to}
            activeOptions={{ exact: "exact" in item }}
            onClick={() => setMenuOpen(false)}
            className="flex items-center justify-between rounded-md px-2 py-1.5 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800"
            activeProps={{ className: "bg-zinc-100 font-medium dark:bg-zinc-800", "aria-current": "page" }}
          >
            {item.label}
            {item.to === "/notifications" && unread > 0 ? (
              <span data-testid="unread-count" className="rounded-full bg-sky-600 px-1.5 text-xs text-white">
                {unread}
              </span>
            ) : null}
          </Link>
        ))}
        <div className="mt-auto grid gap-2 border-t border-zinc-200 pt-3 text-sm dark:border-zinc-800">
          {me ? (
            <span className="truncate px-2 text-zinc-500" data-testid="whoami">
              {me.username} · {me.role}
            </span>
          ) : null}
          <Button
            variant="ghost"
            size="sm"
            onClick={() => {
              const t = nextTheme[theme];
              setTheme(t);
              setThemeState(t);
            }}
          >
            Theme: {theme}
          </Button>
          <Button variant="secondary" size="sm" onClick={signOut}>
            Sign out
          </Button>
        </div>
      </nav>
      <main id="main" className="min-w-0 p-4 md:p-6">
        <Outlet />
      </main>
    </div>
  );
}

export function PageTitle({ children, actions }: { children: React.ReactNode; actions?: React.ReactNode }) {
  return (
    <div className="mb-4 flex flex-wrap items-center justify-between gap-3">
      <h1 className="text-xl font-semibold">{children}</h1>
      <div className="flex flex-wrap gap-2">{actions}</div>
    </div>
  );
}
