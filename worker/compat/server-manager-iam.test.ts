// Seeds 002/004's users, IAM, admin and sign-in paths, in their envelopes, in workerd against the
// local libSQL server.
import { describe, expect, it } from "vitest";
import { addMember, call, json, newOwner, unique } from "../testing.ts";

describe("seed 004's users and IAM", () => {
  it("an admin creates, lists, re-roles, grants, sets a password and deletes; members are refused in 004's envelope", async () => {
    const owner = await newOwner();
    const username = unique("op");
    const created = await json(
      await call("/api/users", {
        token: owner.token,
        body: { username, password: "first-pass", role: "user", permissions: ["manage_firewall", "manage_servers"] },
      }),
      201,
    );
    expect(created).toMatchObject({
      success: true,
      data: { username: username.toLowerCase(), role: "member", permissions: ["manage_servers", "manage_firewall"], project_ids: null },
    });
    const listed = await json(await call("/api/users", { token: owner.token }), 200);
    expect(listed.success).toBe(true);
    expect(listed.data.map((u: { username: string }) => u.username)).toContain(username.toLowerCase());

    const granted = await json(
      await call(`/api/iam/${username}/permissions`, { token: owner.token, body: { permissions: ["create_server", "admin_access"] } }),
      200,
    );
    expect(granted.data).toMatchObject({ permissions: ["create_server", "admin_access"], granted: ["admin_access"] });
    const role = await json(await call(`/api/admin/iam/${username}/role`, { token: owner.token, body: { role: "viewer" } }), 200);
    expect(role.data).toMatchObject({ role: "viewer" });
    const data = await json(await call("/api/iam/data", { token: owner.token }), 200);
    expect(data.data.roles).toEqual(["owner", "admin", "member", "viewer"]);
    expect(data.data.users.find((u: { username: string }) => u.username === username.toLowerCase())).toMatchObject({ role: "viewer" });
    expect((await json(await call("/api/admin", { token: owner.token }), 200)).data).toMatchObject({ dashboard: "/settings/iam" });

    await json(await call(`/api/users/${username}/password`, { token: owner.token, body: { password: "second-pass" } }), 200);
    // 002's sign-in, throttled like every other; the old password is refused in 002's envelope.
    const refused = await call("/api/auth/login", { body: { username, password: "first-pass" } });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { code: "UNAUTHORIZED", message: expect.any(String) } });
    const session = await json(await call("/api/auth/login", { body: { username, password: "second-pass" } }), 200);
    expect(session).toMatchObject({ success: true, access_token: expect.any(String), user: { role: "viewer" } });
    const who = await json(await call("/api/debug/user-info", { token: session.access_token }), 200);
    // Grants and revocations are kept relative to the role: as a viewer, create_server (a member's
    // default) is gone, the admin_access grant stays.
    expect(who.data).toMatchObject({ auth: "session", permissions: ["admin_access"], project_ids: null });

    // A member without admin_access: 004's error envelope.
    const member = await addMember(owner, "member");
    const forbidden = await call("/api/users", { token: member.token });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ success: false, error: expect.stringMatching(/admin|admin_access/) });
    const badRole = await call(`/api/iam/${username}/role`, { token: owner.token, body: { role: "root" } });
    expect(badRole.status).toBe(422);
    expect(await badRole.json()).toMatchObject({ success: false });
    expect((await call("/api/users/nobody-here", { method: "DELETE", token: owner.token })).status).toBe(404);

    // 004's password change and 002's logout end sessions for real.
    await json(
      await call("/change-password", {
        token: session.access_token,
        body: { current_password: "second-pass", new_password: "third-pass" },
      }),
      200,
    );
    expect(await json(await call("/api/auth/logout", { token: session.access_token, method: "POST" }), 200)).toEqual({
      success: true,
      message: "Logged out.",
    });
    expect((await call("/api/debug/user-info", { token: session.access_token })).status).toBe(401);

    const deleted = await json(await call(`/api/users/${username}`, { method: "DELETE", token: owner.token }), 200);
    expect(deleted).toMatchObject({ success: true, data: { username: username.toLowerCase() } });
    expect((await call("/api/auth/login", { body: { username, password: "third-pass" } })).status).toBe(401);
  });
});
