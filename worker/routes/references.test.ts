// Container, image, volume and network references are checked by the Engine's grammar before
// anything reaches the agent: `..` segments and lone surrogates are bad input (422 problem+json,
// or seed 001's 400 envelope), never a 5xx. A scripted agent is connected, so a reference that got
// through would show up as a command it received.
import { describe, expect, it } from "vitest";
import { CONTAINER_AND_IMAGE_OPS } from "../../agent-relay/test/docker-ops.ts";
import { call, expectProblem, json, newOwner } from "../testing.ts";
import { ScriptedAgent } from "../testing-agent.ts";

// In a URL, a bare `..` or `%2E%2E` segment is resolved by the client before it is sent; encoded
// slashes and invalid UTF-8 reach the Worker as they are.
const BAD_CONTAINER_IDS = ["..%2F..%2Fetc%2Fpasswd", "a%2F..%2F..%2Fversion", "..%2F", "%ED%A0%80", "%F0%9F%90%B3", "-rf", ".hidden"];
const BAD_IMAGES = ["..%2F..%2Fetc%2Fpasswd", "busybox%2F..%2F..%2Fversion", "BusyBox", "%ED%A0%80", "a:b:c"];

describe("references by the Engine's grammar", () => {
  it("refuses bad container and image references on every canonical route, without a command", async () => {
    const owner = await newOwner();
    const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name: `refs${Date.now().toString(36)}` } }), 201);
    const agent = await ScriptedAgent.connect(host.agent_token, { capabilities: CONTAINER_AND_IMAGE_OPS });
    const base = `/api/v1/hosts/${host.id}`;
    const t = { token: owner.token };

    // Every route with two of them, every one on inspect (the per-credential limit is 60 a minute).
    for (const id of BAD_CONTAINER_IDS.slice(2)) await expectProblem(await call(`${base}/containers/${id}`, t), 422);
    for (const id of BAD_CONTAINER_IDS.slice(0, 2)) {
      const c = `${base}/containers/${id}`;
      const requests: Array<[string, Parameters<typeof call>[1]]> = [
        [c, t],
        [`${c}/logs`, t],
        [`${c}/logs?follow=true`, t],
        [`${c}/top`, t],
        [`${c}/stats`, t],
        [`${c}/exec`, { ...t, body: { cmd: ["true"] } }],
        [c, { ...t, method: "DELETE" }],
        ...["start", "stop", "restart", "kill", "pause", "unpause"].map((a): [string, Parameters<typeof call>[1]] => [
          `${c}/${a}`,
          { ...t, method: "POST" },
        ]),
      ];
      for (const [path, options] of requests) {
        const res = await call(path, options);
        const body = await expectProblem(res, 422);
        expect(body.errors?.[0]?.pointer, path).toBe("/path/id");
      }
    }
    for (const image of BAD_IMAGES) {
      const body = await expectProblem(await call(`${base}/images/${image}`, { ...t, method: "DELETE" }), 422);
      expect(body.errors?.[0]?.pointer).toBe("/path/image");
    }
    const lone = "\ud800";
    const bodies = [
      [`${base}/containers`, { image: "../../etc" }],
      [`${base}/containers`, { image: "busybox", name: "../x" }],
      [`${base}/containers`, { image: "busybox", network: "../../v1.41/version" }],
      [`${base}/containers`, { image: "busybox", volumes: [{ source: "../data", target: "/data" }] }],
      [`${base}/containers`, { image: `busybox${lone}` }],
      [`${base}/images/pull`, { image: "../../etc/passwd" }],
      [`${base}/images/pull`, { image: lone }],
      [`${base}/containers/bulk`, { action: "stop", ids: ["ok", "../../x"] }],
      [`${base}/containers/bulk`, { action: "stop", ids: [lone] }],
    ] as const;
    for (const [path, body] of bodies) await expectProblem(await call(path, { ...t, body }), 422);

    // Nothing reached the agent; a good reference still does.
    expect(agent.commands).toEqual([]);
    const inspect = call(`${base}/containers/web`, t);
    const cmd = await agent.next();
    expect(cmd).toMatchObject({ op: "container.inspect", args: { id: "web" } });
    agent.reply(cmd.id, { Id: "a".repeat(64), Name: "/web", Config: { Env: [] } });
    expect((await inspect).status).toBe(200);
    agent.ws.close(1000, "done");
    // Some fifty requests, on a machine shared with other suites.
  }, 120_000);

  it("refuses them on seed 001's paths with its 400 envelope", async () => {
    const owner = await newOwner();
    const name = `refs${Date.now().toString(36)}`;
    const host = await json(await call("/api/v1/hosts", { token: owner.token, body: { name } }), 201);
    const agent = await ScriptedAgent.connect(host.agent_token, { capabilities: CONTAINER_AND_IMAGE_OPS });
    const t = { token: owner.token };
    const expect400 = async (res: Response) => {
      const body = await json(res, 400);
      expect(body).toMatchObject({ success: false, message: expect.any(String) });
      expect(body.message).not.toMatch(/URIError|daemon: $/);
    };
    for (const id of BAD_CONTAINER_IDS) {
      await expect400(await call(`/inspect2/${name}/${id}`, t));
      await expect400(await call(`/stat2/${name}/${id}`, t));
    }
    for (const action of ["start2", "stop2"]) {
      await expect400(
        await call(`/${action}`, {
          ...t,
          rawBody: `{"id":"\\ud800","host":"${name}"}`,
          headers: { "content-type": "application/json" },
        }),
      );
      await expect400(await call(`/${action}`, { ...t, body: { id: "../../etc/passwd", host: name } }));
      await expect400(await call(`/${action}`, { ...t, body: { id: "..", host: name } }));
    }
    expect(agent.commands).toEqual([]);
    agent.ws.close(1000, "done");
  });
});
