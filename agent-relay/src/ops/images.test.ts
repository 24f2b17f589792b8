// Docker's per-layer pull lines become one percentage that never goes backwards.
import { describe, expect, it } from "vitest";
import { registryAuthHeader } from "../docker/client.ts";
import { PullTracker, withContainerCounts } from "./images.ts";

describe("pull progress", () => {
  it("weighs layers equally, downloading as 70 % and extracting as the rest", () => {
    const t = new PullTracker();
    expect(t.push({ status: "Pulling from library/busybox", id: "1.36" })).toEqual({ progress: 0, status: "Pulling from library/busybox" });
    t.push({ status: "Pulling fs layer", id: "a" });
    t.push({ status: "Pulling fs layer", id: "b" });
    expect(t.push({ status: "Downloading", id: "a", progressDetail: { current: 50, total: 100 } })).toEqual({
      progress: 17,
      status: "a: Downloading",
    });
    expect(t.push({ status: "Download complete", id: "a" }).progress).toBe(35);
    expect(t.push({ status: "Extracting", id: "a", progressDetail: { current: 100, total: 100 } }).progress).toBe(50);
    expect(t.push({ status: "Pull complete", id: "a" }).progress).toBe(50);
    expect(t.push({ status: "Already exists", id: "b" }).progress).toBe(100);
    expect(t.push({ status: "Digest: sha256:abc" })).toEqual({ progress: 100, status: "Digest: sha256:abc" });
  });

  it("never moves a layer backwards when Docker retries or repeats a line", () => {
    const t = new PullTracker();
    t.push({ status: "Downloading", id: "a", progressDetail: { current: 80, total: 100 } });
    expect(t.push({ status: "Retrying in 5 seconds", id: "a" }).progress).toBe(56);
    expect(t.push({ status: "Downloading", id: "a", progressDetail: { current: 10, total: 100 } }).progress).toBe(56);
    expect(t.push({ status: "Waiting", id: "a" }).progress).toBe(56);
  });

  it("is 0 before any layer is known", () => {
    expect(new PullTracker().progress()).toBe(0);
  });
});

describe("registry credentials header", () => {
  it("is base64 with the URL-safe alphabet and its padding, as the engine decodes it", () => {
    // 17 bytes of JSON would lose their tail to an unpadded encoding.
    const auth = { username: "u?>", password: "p~~~~", serveraddress: "r" };
    const header = registryAuthHeader(auth)!;
    expect(header).not.toMatch(/[+/]/);
    expect(header.length % 4).toBe(0);
    expect(JSON.parse(Buffer.from(header.replaceAll("-", "+").replaceAll("_", "/"), "base64").toString())).toEqual(auth);
    expect(registryAuthHeader(undefined)).toBeUndefined();
  });
});

describe("image list", () => {
  it("counts the containers made from each image where the engine left -1, and keeps a count it gave", () => {
    const images = [
      { Id: "sha256:a", Containers: -1 },
      { Id: "sha256:b", Containers: -1 },
      { Id: "sha256:c", Containers: 5 },
    ];
    const containers = [{ ImageID: "sha256:a" }, { ImageID: "sha256:a" }, { ImageID: "sha256:z" }];
    expect(withContainerCounts(images, containers).map((i) => i.Containers)).toEqual([2, 0, 5]);
  });
});
