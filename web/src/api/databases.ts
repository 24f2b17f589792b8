// The organization's database services, shared by the screens that list or name them.
import { useQuery } from "@tanstack/react-query";
import { api, ok } from "./client.ts";
import { keys } from "./keys.ts";

export const databasesQuery = {
  queryKey: keys.databases.list(),
  queryFn: () => ok(api.GET("/api/v1/databases", { params: { query: { limit: 200 } } })),
};

export const useDatabases = (enabled = true) => useQuery({ ...databasesQuery, enabled });
