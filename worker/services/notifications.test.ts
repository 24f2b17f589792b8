import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { addMember, call, json, newOwner } from "../testing.ts";
import { notify } from "./notifications.ts";

describe("notify", () => {
  it("puts a notification in every member's inbox, and never throws", async () => {
    const owner = await newOwner();
    const viewer = await addMember(owner, "viewer");
    const stranger = await newOwner("stranger");
    await notify(env, {
      organizationId: owner.organizationId,
      kind: "deployment.failed",
      title: "Deployment failed",
      message: "web: exit 1",
      targetType: "deployment",
      targetId: "dpl_1",
      data: { application: "web" },
    });
    for (const user of [owner, viewer]) {
      const list = await json(await call("/api/v1/notifications", { token: user.token }), 200);
      expect(list.notifications).toHaveLength(1);
      expect(list.notifications[0]).toMatchObject({
        kind: "deployment.failed",
        severity: "error",
        title: "Deployment failed",
        message: "web: exit 1",
        target_type: "deployment",
        target_id: "dpl_1",
        read: false,
        data: { application: "web" },
      });
    }
    expect((await json(await call("/api/v1/notifications", { token: stranger.token }), 200)).notifications).toEqual([]);

    // Something that cannot be stored (a BigInt does not serialize): notify logs and returns.
    await expect(
      notify(env, { organizationId: owner.organizationId, kind: "host.lost", title: "x", message: "y", data: { n: 1n } }),
    ).resolves.toBeUndefined();
    expect((await json(await call("/api/v1/notifications", { token: owner.token }), 200)).notifications).toHaveLength(1);
  });
});
