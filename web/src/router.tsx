// One route per screen. Only the first screens (sign-in, the overview, and the layout around it)
// are in the entry; every other screen is its own chunk (lazyRouteComponent), loaded when it is
// opened or hovered, so the first screen stays well inside its JavaScript budget.
// Paths must not collide with the root paths the Worker's compat surfaces own (seed 001 has
// /hosts, /login, /events…): worker/routes/dashboard.ts lists these same prefixes.
import type { QueryClient } from "@tanstack/react-query";
import { createRootRouteWithContext, createRoute, createRouter, lazyRouteComponent, Outlet, redirect } from "@tanstack/react-router";
import { keys } from "./api/keys.ts";
import { fetchMe, fetchSetup } from "./api/session.ts";
import { AppLayout } from "./components/layout.tsx";
import { OverviewPage } from "./routes/overview.tsx";
import { SignInPage } from "./routes/signin.tsx";

interface RouterContext {
  queryClient: QueryClient;
}

const rootRoute = createRootRouteWithContext<RouterContext>()({ component: Outlet });

const signinRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "signin",
  validateSearch: (s: Record<string, unknown>): { next?: string } => (typeof s.next === "string" ? { next: s.next } : {}),
  component: SignInPage,
});

// First run happens once: its code (and the attach-a-host form) loads only then.
const setupRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "setup",
  component: lazyRouteComponent(() => import("./routes/setup.tsx"), "SetupPage"),
});

/** Everything behind sign-in: without a session, first run (no owner yet) or the sign-in page. */
const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "app",
  beforeLoad: async ({ context, location }) => {
    const me = await context.queryClient.ensureQueryData({ queryKey: keys.me, queryFn: fetchMe }).catch(() => null);
    if (me) return;
    const setup = await fetchSetup().catch(() => null);
    if (setup?.needs_owner) throw redirect({ to: "/setup" });
    throw redirect({ to: "/signin", search: location.href === "/" ? {} : { next: location.href } });
  },
  component: AppLayout,
});

const overviewRoute = createRoute({ getParentRoute: () => appRoute, path: "/", component: OverviewPage });
const hostsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "docker-hosts",
  component: lazyRouteComponent(() => import("./routes/hosts.tsx"), "HostsPage"),
});
const hostRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "docker-hosts/$hostId",
  validateSearch: (s: Record<string, unknown>): { tab?: string } => (typeof s.tab === "string" ? { tab: s.tab } : {}),
  component: lazyRouteComponent(() => import("./routes/host.tsx"), "HostPage"),
});
const containerRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "docker-hosts/$hostId/containers/$containerId",
  validateSearch: (s: Record<string, unknown>): { tab?: string } => (typeof s.tab === "string" ? { tab: s.tab } : {}),
  component: lazyRouteComponent(() => import("./routes/container.tsx"), "ContainerPage"),
});
const projectsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "projects",
  component: lazyRouteComponent(() => import("./routes/projects.tsx"), "ProjectsPage"),
});
const projectRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "projects/$projectId",
  component: lazyRouteComponent(() => import("./routes/projects.tsx"), "ProjectPage"),
});
const applicationRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "applications/$applicationId",
  validateSearch: (s: Record<string, unknown>): { tab?: string; deployment?: string } => ({
    ...(typeof s.tab === "string" ? { tab: s.tab } : {}),
    ...(typeof s.deployment === "string" ? { deployment: s.deployment } : {}),
  }),
  component: lazyRouteComponent(() => import("./routes/application.tsx"), "ApplicationPage"),
});
const notificationsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "notifications",
  component: lazyRouteComponent(() => import("./routes/notifications.tsx"), "NotificationsPage"),
});
const tasksRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "tasks",
  component: lazyRouteComponent(() => import("./routes/tasks.tsx"), "TasksPage"),
});

const settingsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "settings",
  validateSearch: (s: Record<string, unknown>): { tab?: string } => (typeof s.tab === "string" ? { tab: s.tab } : {}),
  component: lazyRouteComponent(() => import("./routes/settings.tsx"), "SettingsPage"),
});
const alertsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "alerts",
  component: lazyRouteComponent(() => import("./routes/alerts.tsx"), "AlertsPage"),
});
const channelsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "channels",
  component: lazyRouteComponent(() => import("./routes/channels.tsx"), "ChannelsPage"),
});
const databasesRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "databases",
  component: lazyRouteComponent(() => import("./routes/databases.tsx"), "DatabasesPage"),
});
const databaseRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "databases/$databaseId",
  component: lazyRouteComponent(() => import("./routes/databases.tsx"), "DatabasePage"),
});
const backupsRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "backups",
  // ?tab= picks a tab; ?kind=&host=&ref= opens one target's backups (volume, container or database).
  validateSearch: (s: Record<string, unknown>): { tab?: string; kind?: string; host?: string; ref?: string } =>
    Object.fromEntries(Object.entries(s).filter(([k, v]) => ["tab", "kind", "host", "ref"].includes(k) && typeof v === "string")),
  component: lazyRouteComponent(() => import("./routes/backups.tsx"), "BackupsPage"),
});
const accessRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "access",
  validateSearch: (s: Record<string, unknown>): { tab?: string } => (typeof s.tab === "string" ? { tab: s.tab } : {}),
  component: lazyRouteComponent(() => import("./routes/access.tsx"), "AccessPage"),
});
const registriesRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "registries",
  component: lazyRouteComponent(() => import("./routes/registries.tsx"), "RegistriesPage"),
});

const serversRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "servers",
  // ?tab= picks inventory, roles or firewall; the inventory's filters are kept there too.
  validateSearch: (s: Record<string, unknown>): { tab?: string; host?: string; role?: string; status?: string } =>
    Object.fromEntries(Object.entries(s).filter(([k, v]) => ["tab", "host", "role", "status"].includes(k) && typeof v === "string")),
  component: lazyRouteComponent(() => import("./routes/servers.tsx"), "ServersPage"),
});
const serverRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "servers/$serverId",
  validateSearch: (s: Record<string, unknown>): { tab?: string } => (typeof s.tab === "string" ? { tab: s.tab } : {}),
  component: lazyRouteComponent(() => import("./routes/server.tsx"), "ServerPage"),
});

const routeTree = rootRoute.addChildren([
  signinRoute,
  setupRoute,
  appRoute.addChildren([
    overviewRoute,
    hostsRoute,
    hostRoute,
    containerRoute,
    projectsRoute,
    projectRoute,
    applicationRoute,
    notificationsRoute,
    tasksRoute,
    settingsRoute,
    alertsRoute,
    channelsRoute,
    databasesRoute,
    databaseRoute,
    registriesRoute,
    backupsRoute,
    serversRoute,
    serverRoute,
    accessRoute,
  ]),
]);

export function createAppRouter(queryClient: QueryClient) {
  return createRouter({ routeTree, context: { queryClient }, defaultPreload: "intent", scrollRestoration: true });
}

declare module "@tanstack/react-router" {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
