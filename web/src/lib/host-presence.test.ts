import { describe, expect, it } from "vitest";
import type { Schemas } from "../api/client.ts";
import { presenceInList, withPresence } from "./host-presence.ts";

const host = (id: string, status: Schemas["Host"]["status"]): Schemas["Host"] => ({
  addresses: [],
  agent_token_prefix: "pier_agt_x",
  agent_version: null,
  arch: null,
  connected_at: null,
  containers: null,
  cpus: null,
  created_at: "2026-11-30T00:00:00Z",
  disconnected_at: null,
  engine_version: null,
  hostname: null,
  id,
  is_default: false,
  last_seen_at: null,
  name: `h-${id}`,
  os: null,
  status,
  updated_at: "2026-11-30T00:00:00Z",
});

describe("host presence frames", () => {
  it("moves only the host they are about, with the time of the change", () => {
    const list = { hosts: [host("a", "never_connected"), host("b", "online")], next_cursor: null };
    const online = presenceInList(list, { host_id: "a", host_name: "h-a", status: "online", time: "2026-11-30T01:00:00Z" });
    expect(online?.hosts.map((h) => [h.id, h.status, h.connected_at])).toEqual([
      ["a", "online", "2026-11-30T01:00:00Z"],
      ["b", "online", null],
    ]);
    expect(online?.next_cursor).toBeNull();
    const gone = withPresence(online!.hosts[0]!, { host_id: "a", host_name: "h-a", status: "disconnected", time: "2026-11-30T02:00:00Z" });
    expect([gone.status, gone.disconnected_at, gone.connected_at]).toEqual([
      "disconnected",
      "2026-11-30T02:00:00Z",
      "2026-11-30T01:00:00Z",
    ]);
    expect(withPresence(gone, { host_id: "a", host_name: "h-a", status: "lost", time: "2026-11-30T03:00:00Z" })).toMatchObject({
      status: "lost",
      disconnected_at: "2026-11-30T02:00:00Z",
    });
  });

  it("leaves a list that is not cached yet alone", () => {
    expect(presenceInList(undefined, { host_id: "a", host_name: "h-a", status: "online", time: "2026-11-30T01:00:00Z" })).toBeUndefined();
  });
});
