// The organization's hosts, read by many screens (the overview, pickers in forms): kept apart from
// the hosts screen so that using the list does not load that screen's code.
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "./client.ts";
import { keys } from "./keys.ts";

export const useHosts = () =>
  useQuery({ queryKey: keys.hosts.list(), queryFn: () => ok(api.GET("/api/v1/hosts", { params: { query: { limit: 100 } } })) });

/** A host's name by its id (the id itself until the list has loaded, or for a host gone since). */
export function useHostName(): (id: string) => string {
  const hosts = useHosts();
  return (id) => hosts.data?.hosts.find((h) => h.id === id)?.name ?? id;
}
