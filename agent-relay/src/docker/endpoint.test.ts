import { describe, expect, it } from "vitest";
import { ContainerRef, ImageRef, MountSource, NetworkRef } from "../protocol.ts";
import { toRelayError } from "../errors.ts";
import { pathSegment } from "./endpoint.ts";
import { InvalidReferenceError } from "./errors.ts";

describe("references", () => {
  it("encodes a reference as one path segment, and refuses what the engine's router would resolve", () => {
    expect(pathSegment("pier-test/busybox:latest")).toBe("pier-test%2Fbusybox%3Alatest");
    expect(pathSegment("/web")).toBe("%2Fweb");
    for (const bad of ["", ".", "..", "../../etc/passwd", "a/../b", "a/./b", "\ud800", "x\udc00"]) {
      expect(() => pathSegment(bad), bad).toThrow(InvalidReferenceError);
    }
    expect(toRelayError(new InvalidReferenceError("no"))).toMatchObject({ code: "invalid_args" });
  });

  it("follows the Engine's grammar for containers, images, networks and mounts", () => {
    for (const ok of ["web", "/web", "a", "0123abcd", "my_app.v2-1"]) expect(ContainerRef.safeParse(ok).success, ok).toBe(true);
    for (const bad of ["..", "../x", ".x", "-x", "a/b", "\ud800", "a b", ""]) expect(ContainerRef.safeParse(bad).success, bad).toBe(false);
    for (const ok of [
      "busybox",
      "busybox:1.36",
      "pier-test/busybox:latest",
      "pier/my-app:dpl_0123abcd",
      `ghcr.io/org/app@sha256:${"a".repeat(64)}`,
      "localhost:5000/team/app:v1",
      `sha256:${"0".repeat(64)}`,
      "0123abcd",
    ])
      expect(ImageRef.safeParse(ok).success, ok).toBe(true);
    for (const bad of ["..", "../../etc/passwd", "busybox/../../version", "BusyBox", "a:b:c", "\ud800", "busybox:", ""])
      expect(ImageRef.safeParse(bad).success, bad).toBe(false);
    for (const ok of ["bridge", "pier-prj_0123"]) expect(NetworkRef.safeParse(ok).success, ok).toBe(true);
    expect(NetworkRef.safeParse("../x").success).toBe(false);
    for (const ok of ["/srv/data", "pgdata"]) expect(MountSource.safeParse(ok).success, ok).toBe(true);
    for (const bad of ["../data", "a/b", "/srv/\ud800"]) expect(MountSource.safeParse(bad).success, bad).toBe(false);
  });
});
