import { describe, expect, it } from "vitest";
import { applyContainerEvent, type Container, type DockerEvent } from "./container-events.ts";

const row = (id: string, state: string): Container => ({
  id,
  short_id: id.slice(0, 12),
  name: `c-${id}`,
  image: "busybox",
  state,
  status: state,
  created_at: "2026-11-30T00:00:00Z",
  labels: {},
  managed: false,
  ports: [],
});

const event = (action: string, id: string, attributes: Record<string, string> = {}): DockerEvent => ({
  host_id: "hst_1",
  host_name: "h",
  type: "container",
  action,
  id,
  name: attributes.name ?? null,
  attributes,
  time: "2026-11-30T05:00:00Z",
});

describe("applyContainerEvent", () => {
  it("moves a known container through start, pause, die", () => {
    let list = [row("aaa", "exited"), row("bbb", "running")];
    list = applyContainerEvent(list, event("start", "aaa")).containers;
    expect(list[0]).toMatchObject({ state: "running" });
    list = applyContainerEvent(list, event("pause", "aaa")).containers;
    expect(list[0]).toMatchObject({ state: "paused" });
    const died = applyContainerEvent(list, event("die", "bbb", { exitCode: "137" }));
    expect(died.containers[1]).toMatchObject({ state: "exited", status: "Exited (137)" });
    expect(died.refetch).toBe(false);
  });

  it("adds an unknown container from its event and asks for the full row", () => {
    const applied = applyContainerEvent([row("aaa", "running")], event("start", "ccc", { name: "web", image: "nginx" }));
    expect(applied.containers[0]).toMatchObject({ id: "ccc", name: "web", image: "nginx", state: "running" });
    expect(applied.refetch).toBe(true);
  });

  it("removes a destroyed container and ignores events that change no state", () => {
    const list = [row("aaa", "running"), row("bbb", "exited")];
    expect(applyContainerEvent(list, event("destroy", "bbb")).containers.map((c) => c.id)).toEqual(["aaa"]);
    expect(applyContainerEvent(list, event("exec_start: sh", "aaa")).containers).toEqual(list);
    expect(applyContainerEvent(list, { ...event("create", "zzz"), type: "image" }).containers).toEqual(list);
  });

  it("matches a short id against a full one", () => {
    const applied = applyContainerEvent([row("abcdef123456", "exited")], event("start", "abcdef1234567890ffff"));
    expect(applied.containers).toHaveLength(1);
    expect(applied.containers[0]!.state).toBe("running");
  });
});
