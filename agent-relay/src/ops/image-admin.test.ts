import { describe, expect, it } from "vitest";
import { ContainerUpdateArgs, ImagePushArgs, TaggedRef } from "../protocol.ts";
import { updateBody } from "./container-admin.ts";
import { PushTracker } from "./image-admin.ts";

describe("PushTracker", () => {
  it("turns per-layer push lines into a percentage and the text docker push prints", () => {
    const t = new PushTracker();
    t.push({ status: "The push refers to repository [127.0.0.1:5000/app]" });
    t.push({ id: "a", status: "Preparing" });
    t.push({ id: "b", status: "Preparing" });
    expect(t.push({ id: "a", status: "Pushing", progressDetail: { current: 50, total: 100 } }).progress).toBe(25);
    expect(t.push({ id: "b", status: "Layer already exists" }).progress).toBe(75);
    // A retried upload never moves a layer backwards.
    expect(t.push({ id: "a", status: "Pushing", progressDetail: { current: 10, total: 100 } }).progress).toBe(75);
    expect(t.push({ id: "a", status: "Pushed" }).progress).toBe(100);
    t.push({ status: "v1: digest: sha256:abc size: 527" });
    t.push({ aux: { Tag: "v1", Digest: "sha256:abc", Size: 527 } });
    expect(t.digest).toBe("sha256:abc");
    expect(t.lines).toEqual([
      "The push refers to repository [127.0.0.1:5000/app]",
      "a: Preparing",
      "b: Preparing",
      "b: Layer already exists",
      "a: Pushed",
      "v1: digest: sha256:abc size: 527",
    ]);
  });
});

describe("updateBody", () => {
  const mib = 1024 * 1024;
  it("sends only what was given, in the engine's names", () => {
    expect(updateBody({ id: "c", cpu_shares: 512, cpus: 1.5, restart_policy: "no" })).toEqual({
      CpuShares: 512,
      NanoCpus: 1_500_000_000,
      RestartPolicy: { Name: "" },
    });
  });
  it("raises a swap cap the new memory would exceed, and leaves unlimited swap alone", () => {
    expect(updateBody({ id: "c", memory: 256 * mib }, { MemorySwap: 128 * mib })).toEqual({ Memory: 256 * mib, MemorySwap: 512 * mib });
    expect(updateBody({ id: "c", memory: 256 * mib }, { MemorySwap: -1 })).toEqual({ Memory: 256 * mib });
    expect(updateBody({ id: "c", memory: 256 * mib, memory_swap: 300 * mib }, { MemorySwap: 128 * mib })).toEqual({
      Memory: 256 * mib,
      MemorySwap: 300 * mib,
    });
  });
});

describe("schemas", () => {
  it("take tagged references only where a tag is meant", () => {
    for (const ok of ["app", "app:v1", "127.0.0.1:5000/org/app:v1", "ghcr.io/o/a"]) expect(TaggedRef.safeParse(ok).success).toBe(true);
    for (const bad of ["App", `app@sha256:${"a".repeat(64)}`, "app:", "../x", "a:b:c", ""])
      expect(TaggedRef.safeParse(bad).success).toBe(false);
    expect(ImagePushArgs.safeParse({ image: "app:v1", auth: { username: "u", password: "p" } }).success).toBe(true);
  });
  it("refuse an update that changes nothing or limits CPU twice", () => {
    expect(ContainerUpdateArgs.safeParse({ id: "c" }).success).toBe(false);
    expect(ContainerUpdateArgs.safeParse({ id: "c", cpus: 1, cpu_quota: 50_000 }).success).toBe(false);
    expect(ContainerUpdateArgs.safeParse({ id: "c", restart_max_retries: 2 }).success).toBe(false);
    expect(ContainerUpdateArgs.safeParse({ id: "c", restart_policy: "on-failure", restart_max_retries: 2 }).success).toBe(true);
  });
});
