// The organization's hosts, read by many screens (the overview, pickers in forms): kept apart from
// the hosts screen so that using the list does not load that screen's code.
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "./client.ts";
import { keys } from "./keys.ts";

export const useHosts = () =>
  useQuery({ queryKey: keys.hosts.list(), queryFn: () => ok(api.GET("/api/v1/hosts", { params: { query: { limit: 100 } } })) });
