import { describe, expect, it } from "vitest";
import { addMember, call, expectProblem, json, login, newOwner, unique } from "../testing.ts";

describe("users of an organization", () => {
  it("lets an owner add, list, re-role and remove users", async () => {
    const owner = await newOwner();
    const member = await addMember(owner, "member");
    expect(member.organizationId).toBe(owner.organizationId);
    const list = await json(await call("/api/v1/users", { token: owner.token }), 200);
    expect(list.users.map((u: { id: string }) => u.id).sort()).toEqual([owner.userId, member.userId].sort());
    const updated = await json(
      await call(`/api/v1/users/${member.userId}`, { method: "PATCH", token: owner.token, body: { role: "viewer" } }),
      200,
    );
    expect(updated.role).toBe("viewer");
    expect((await call(`/api/v1/users/${member.userId}`, { method: "DELETE", token: owner.token })).status).toBe(204);
    // Their session ends at once.
    await expectProblem(await call("/api/v1/me", { token: member.token }), 401);
    const after = await json(await call("/api/v1/users", { token: owner.token }), 200);
    expect(after.users.map((u: { id: string }) => u.id)).toEqual([owner.userId]);
  });

  it("applies a demotion at once, without waiting for the access token to expire", async () => {
    const owner = await newOwner();
    const admin = await addMember(owner, "admin");
    await json(await call("/api/v1/users", { token: admin.token }), 200);
    await json(await call(`/api/v1/users/${admin.userId}`, { method: "PATCH", token: owner.token, body: { role: "viewer" } }), 200);
    await expectProblem(await call("/api/v1/users", { token: admin.token }), 403);
  });

  it("refuses admin actions to viewers and members with 403", async () => {
    const owner = await newOwner();
    for (const role of ["viewer", "member"] as const) {
      const user = await addMember(owner, role);
      await expectProblem(await call("/api/v1/users", { token: user.token }), 403, new RegExp(role));
      await expectProblem(
        await call("/api/v1/users", {
          token: user.token,
          body: { username: unique(), email: `${unique()}@x.test`, password: "password1", role: "member" },
        }),
        403,
      );
      await expectProblem(
        await call(`/api/v1/users/${owner.userId}`, { method: "PATCH", token: user.token, body: { role: "viewer" } }),
        403,
      );
      await expectProblem(await call(`/api/v1/users/${owner.userId}`, { method: "DELETE", token: user.token }), 403);
      await expectProblem(await call("/api/v1/audit-events", { token: user.token }), 403);
    }
  });

  it("stops an admin from creating or promoting owners, and keeps the last owner", async () => {
    const owner = await newOwner();
    const admin = await addMember(owner, "admin");
    await expectProblem(
      await call("/api/v1/users", {
        token: admin.token,
        body: { username: unique(), email: `${unique()}@x.test`, password: "password1", role: "owner" },
      }),
      403,
    );
    const member = await addMember(owner, "member");
    await expectProblem(
      await call(`/api/v1/users/${member.userId}`, { method: "PATCH", token: admin.token, body: { role: "owner" } }),
      403,
    );
    await expectProblem(
      await call(`/api/v1/users/${owner.userId}`, { method: "PATCH", token: owner.token, body: { role: "admin" } }),
      409,
      /last owner/,
    );
    await expectProblem(await call(`/api/v1/users/${owner.userId}`, { method: "DELETE", token: owner.token }), 409);
  });

  it("makes another organization's users look missing (404)", async () => {
    const a = await newOwner("a");
    const b = await newOwner("b");
    await expectProblem(await call(`/api/v1/users/${b.userId}`, { token: a.token }), 404);
    await expectProblem(await call(`/api/v1/users/${b.userId}`, { method: "PATCH", token: a.token, body: { role: "viewer" } }), 404);
    await expectProblem(await call(`/api/v1/users/${b.userId}`, { method: "DELETE", token: a.token }), 404);
    const list = await json(await call("/api/v1/users", { token: a.token }), 200);
    expect(list.users.map((u: { id: string }) => u.id)).not.toContain(b.userId);
    // b is untouched.
    await login(b.username, b.password);
  });

  it("paginates with a cursor", async () => {
    const owner = await newOwner();
    for (let i = 0; i < 3; i++) await addMember(owner, "viewer");
    const first = await json(await call("/api/v1/users?limit=2", { token: owner.token }), 200);
    expect(first.users).toHaveLength(2);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await json(
      await call(`/api/v1/users?limit=2&cursor=${encodeURIComponent(first.next_cursor)}`, { token: owner.token }),
      200,
    );
    expect(second.users).toHaveLength(2);
    expect(second.next_cursor).toBeNull();
    const ids = [...first.users, ...second.users].map((u: { id: string }) => u.id);
    expect(new Set(ids).size).toBe(4);
    await expectProblem(await call("/api/v1/users?cursor=garbage", { token: owner.token }), 400, /cursor/);
    await expectProblem(await call("/api/v1/users?limit=0", { token: owner.token }), 422);
  });
});
