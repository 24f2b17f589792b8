// Dokploy's two wire formats (tRPC-OpenAPI `/api/<procedure>` and tRPC `/api/trpc/<procedure>`)
// over one table of procedures, in workerd against the local libSQL server.
import { describe, expect, it } from "vitest";
import { addMember, call, json, newOwner } from "../testing.ts";

async function apiKeyOf(token: string) {
  return (await json(await call("/api/v1/api-keys", { token, body: { name: "dokploy" } }), 201)).key as string;
}
const trpcGet = (procedure: string, input: unknown, apiKey: string) =>
  call(`/api/trpc/${procedure}${input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`}`, { apiKey });
const trpcPost = (procedure: string, input: unknown, apiKey: string) => call(`/api/trpc/${procedure}`, { apiKey, body: { json: input } });
const bodyOf = async (res: Response): Promise<any> => res.json();
const data = async (res: Response) => (await json(res, 200)).result.data.json;

describe("Dokploy's tRPC paths", () => {
  it("serve the same procedures as /api/<procedure>: result.data.json, bare or superjson input", async () => {
    const owner = await newOwner();
    const key = await apiKeyOf(owner.token);

    const me = await data(await trpcGet("user.get", undefined, key));
    expect(me).toMatchObject({ userId: owner.userId, organizationId: owner.organizationId, role: "owner", user: { email: owner.email } });

    const created = await data(await trpcPost("project.create", { name: "shop", description: "d" }, key));
    expect(created).toMatchObject({
      projectId: expect.stringMatching(/^prj_/),
      project: { projectId: expect.stringMatching(/^prj_/), name: "shop" },
      environment: { environmentId: expect.stringMatching(/^env_/), name: "production", isDefault: true },
    });
    const projectId = created.project.projectId;
    const staging = await data(await trpcPost("environment.create", { name: "staging", projectId }, key));
    expect(staging).toMatchObject({ environmentId: expect.stringMatching(/^env_/), name: "staging", projectId, isDefault: false });

    const app = await data(await trpcPost("application.create", { name: "web", environmentId: staging.environmentId }, key));
    expect(app).toMatchObject({ applicationId: expect.stringMatching(/^app_/), projectId, environmentId: staging.environmentId });
    // Superjson-wrapped and bare query input both work.
    expect(await data(await trpcGet("application.one", { json: { applicationId: app.applicationId } }, key))).toMatchObject({
      applicationId: app.applicationId,
    });
    expect(await data(await trpcGet("application.one", { applicationId: app.applicationId }, key))).toMatchObject({
      applicationId: app.applicationId,
    });
    expect(
      await data(await trpcPost("application.update", { applicationId: app.applicationId, description: "front", autoDeploy: true }, key)),
    ).toBe(true);
    expect(await json(await call(`/api/application.one?applicationId=${app.applicationId}`, { apiKey: key }), 200)).toMatchObject({
      description: "front",
    });
    const domain = await data(
      await trpcPost("domain.create", { applicationId: app.applicationId, host: "web.example.test", port: 3000 }, key),
    );
    expect(await data(await trpcGet("domain.byApplicationId", { applicationId: app.applicationId }, key))).toEqual([domain]);
    const redis = await data(await trpcPost("redis.create", { name: "cache", environmentId: staging.environmentId }, key));
    expect(redis).toMatchObject({ redisId: expect.stringMatching(/^dbs_/), environmentId: staging.environmentId });

    // project.all and project.one: services nested in environments[], and still on the project.
    const [listed] = await data(await trpcGet("project.all", {}, key));
    expect(listed.environments.map((e: { name: string }) => e.name)).toEqual(["production", "staging"]);
    expect(listed.environments[1].applications.map((a: { applicationId: string }) => a.applicationId)).toEqual([app.applicationId]);
    expect(listed.environments[1].redis.map((r: { redisId: string }) => r.redisId)).toEqual([redis.redisId]);
    expect(listed.environments[0].applications).toEqual([]);
    expect(listed.applications.map((a: { applicationId: string }) => a.applicationId)).toEqual([app.applicationId]);
    expect(await json(await call(`/api/project.one?projectId=${projectId}`, { apiKey: key }), 200)).toEqual(
      await data(await trpcGet("project.one", { projectId }, key)),
    );
    const byProject = await data(await trpcGet("environment.byProjectId", { projectId }, key));
    expect(byProject.map((e: { name: string }) => e.name)).toEqual(["production", "staging"]);
    expect(await data(await trpcGet("environment.one", { environmentId: staging.environmentId }, key))).toMatchObject({
      name: "staging",
      project: { projectId },
      applications: [expect.objectContaining({ applicationId: app.applicationId })],
    });

    // Still by project alone, as the seed's scripts send it: the default environment.
    const legacy = await json(await call("/api/application.create", { apiKey: key, body: { name: "api", projectId } }), 200);
    expect(legacy.environmentId).toBe(created.environment.environmentId);

    expect(await data(await trpcPost("environment.remove", { environmentId: staging.environmentId }, key))).toMatchObject({
      name: "staging",
    });
    expect((await trpcGet("application.one", { applicationId: app.applicationId }, key)).status).toBe(404);
  });

  it("answer errors in tRPC's shape there and in {message, code} on /api/<procedure>", async () => {
    const owner = await newOwner();
    const key = await apiKeyOf(owner.token);
    const viewer = await addMember(owner, "viewer");

    const unauthenticated = await call("/api/trpc/user.get");
    expect(unauthenticated.status).toBe(401);
    expect((await bodyOf(unauthenticated)).error.json).toMatchObject({
      message: expect.any(String),
      code: -32001,
      data: { code: "UNAUTHORIZED", httpStatus: 401 },
    });

    const missing = await trpcGet("project.one", { projectId: "prj_nope" }, key);
    expect(missing.status).toBe(404);
    expect(await bodyOf(missing)).toEqual({
      error: {
        json: {
          message: "Project prj_nope was not found.",
          code: -32004,
          data: { code: "NOT_FOUND", httpStatus: 404, path: "project.one", zodError: null },
        },
      },
    });

    const invalid = await trpcPost("environment.create", { projectId: "prj_x" }, key);
    expect(invalid.status).toBe(400);
    expect((await bodyOf(invalid)).error.json).toMatchObject({
      message: expect.stringMatching(/name/),
      code: -32600,
      data: { code: "BAD_REQUEST", httpStatus: 400, zodError: { fieldErrors: { name: [expect.any(String)] } } },
    });
    const badInput = await call("/api/trpc/project.one?input=%7Bnot-json", { apiKey: key });
    expect(badInput.status).toBe(400);
    expect((await bodyOf(badInput)).error.json.message).toMatch(/not JSON/);

    const wrongMethod = await call("/api/trpc/project.create", { apiKey: key });
    expect(wrongMethod.status).toBe(405);
    expect((await bodyOf(wrongMethod)).error.json).toMatchObject({ message: "project.create is a mutation: call it with POST." });
    const unknown = await call("/api/trpc/settings.reloadServer", { apiKey: key, body: { json: {} } });
    expect(unknown.status).toBe(404);
    expect((await bodyOf(unknown)).error.json.message).toMatch(/No procedure settings.reloadServer/);
    const unknownPlain = await call("/api/settings.reloadServer", { apiKey: key, body: {} });
    expect(unknownPlain.status).toBe(404);
    expect(await bodyOf(unknownPlain)).toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(/No procedure/) });

    const viewerKey = await apiKeyOf(viewer.token);
    const refused = await trpcPost("project.create", { name: "nope" }, viewerKey);
    expect(refused.status).toBe(403);
    expect((await bodyOf(refused)).error.json).toMatchObject({
      code: -32003,
      data: { code: "FORBIDDEN" },
      message: expect.stringMatching(/viewer/),
    });
    const refusedPlain = await call("/api/environment.create", { apiKey: viewerKey, body: { name: "qa", projectId: "prj_x" } });
    expect(refusedPlain.status).toBe(403);
    expect(await bodyOf(refusedPlain)).toMatchObject({ code: "FORBIDDEN", message: expect.any(String) });
  });
});
