// Who is signed in, through the session cookie (HttpOnly: the page never sees it). Contract with
// the Worker: POST /api/v1/auth/browser/login sets it, /browser/logout ends it, GET /api/v1/setup
// says whether Pier still needs its owner.
import { useQuery } from "@tanstack/react-query";
import { api, ok, type Schemas } from "./client.ts";
import { keys } from "./keys.ts";

export type User = Schemas["User"];
export type Role = User["role"];

export const fetchMe = () => ok(api.GET("/api/v1/me"));

export const fetchSetup = () => ok(api.GET("/api/v1/setup"));

export const browserLogin = (login: string, password: string) => ok(api.POST("/api/v1/auth/browser/login", { body: { login, password } }));

export const browserLogout = () => ok(api.POST("/api/v1/auth/browser/logout"));

export function useMe(): User | undefined {
  return useQuery({ queryKey: keys.me, queryFn: fetchMe, staleTime: 60_000 }).data;
}

/** Viewers read; members and up act on hosts, containers and deployments. */
export const canOperate = (role: Role | undefined) => role === "owner" || role === "admin" || role === "member";
export const isAdmin = (role: Role | undefined) => role === "owner" || role === "admin";

export function useCan(): { operate: boolean; admin: boolean } {
  const me = useMe();
  return { operate: canOperate(me?.role), admin: isAdmin(me?.role) };
}

/**
 * What the signed-in user holds beyond their role: seed 004's permissions and, for a
 * project-scoped member, their projects (anyone may read their own).
 */
export function useMyAccess() {
  const me = useMe();
  return useQuery({
    queryKey: keys.access.mine(me?.id ?? ""),
    enabled: Boolean(me),
    queryFn: () => ok(api.GET("/api/v1/users/{id}/permissions", { params: { path: { id: me?.id ?? "" } } })),
    staleTime: 30_000,
  }).data;
}
