// The README's first minutes and seed 001's curl examples, run as written against a fresh
// `npm start` (closed registration: the first user becomes the owner).
import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STACK_START_TIMEOUT_MS, startStack, type Stack } from "../setup/stack.ts";

const run = promisify(execFile);

/** Runs a curl command line from the seed document, pointed at this stack. */
async function curl(stack: Stack, commandLine: string): Promise<any> {
  const line = commandLine.replaceAll("http://localhost:9083", stack.url);
  const { stdout } = await run("bash", ["-c", `${line.replace(/^curl /, "curl -sS ")}`], { timeout: 30_000 });
  return JSON.parse(stdout);
}

describe("a fresh npm start", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, STACK_START_TIMEOUT_MS + 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("keeps the seed's own requests working: POST /user (first user), /login, /token/renew_access, /logout", async () => {
    // With no user yet, npm start says how to create the first one.
    await expect.poll(() => stack.output()).toContain("press Ctrl-C to stop");
    expect(stack.output()).toContain("create the first user");
    const created = await curl(
      stack,
      `curl -X POST http://localhost:9083/user \\
  -H "Content-Type: application/json" \\
  -d '{"username":"gildong","password":"123123","full_name":"YunGilDong","email":"gildong@email.com"}'`,
    );
    expect(created).toEqual({
      success: true,
      data: {
        username: "gildong",
        full_name: "YunGilDong",
        email: "gildong@email.com",
        created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/),
      },
    });

    const login = await curl(
      stack,
      `curl -X POST http://localhost:9083/login \\
  -H "Content-Type: application/json" \\
  -d '{"username":"gildong","password":"123123"}'`,
    );
    expect(login).toMatchObject({
      session_id: expect.any(String),
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      user: { username: "gildong", email: "gildong@email.com" },
    });

    const me = await (await fetch(`${stack.url}/api/v1/me`, { headers: { authorization: `Bearer ${login.access_token}` } })).json();
    expect(me.role).toBe("owner");

    const renewed = await curl(
      stack,
      `curl -X POST http://localhost:9083/token/renew_access \\
  -H "Content-Type: application/json" \\
  -d '{"refresh_token":"${login.refresh_token}"}'`,
    );
    expect(Object.keys(renewed).sort()).toEqual(["access_token", "access_token_expires_at"]);

    const out = await curl(
      stack,
      `curl -X POST http://localhost:9083/logout \\
  -H "Content-Type: application/json" \\
  -d '{"refresh_token":"${login.refresh_token}"}'`,
    );
    expect(out).toEqual({ success: true, data: "logged out successfully" });

    // Registration is now closed: a second self-registration is refused.
    const second = await curl(
      stack,
      `curl -X POST http://localhost:9083/user -H "Content-Type: application/json" -d '{"username":"other","password":"123123","full_name":"Other","email":"other@email.com"}'`,
    );
    expect(second).toEqual({ success: false, message: expect.stringMatching(/Registration is closed/) });
  });

  it("keeps its data and secrets across a restart", { timeout: STACK_START_TIMEOUT_MS + 60_000 }, async () => {
    const port = new URL(stack.url).port;
    await stack.process.kill("SIGTERM");
    await new Promise((r) => stack.process.once("exit", r));
    const again = await startStack({ PIER_DATA_DIR: stack.dataDir, PORT: port });
    try {
      const login = await (
        await fetch(`${again.url}/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "gildong", password: "123123" }),
        })
      ).json();
      expect(login.access_token).toEqual(expect.any(String));
      // There is a user now: no invitation to create the first one, a sign-in hint instead.
      await expect.poll(() => again.output()).toContain("press Ctrl-C to stop");
      expect(again.output()).not.toContain("create the first user");
      expect(again.output()).toContain("/api/v1/auth/login");
    } finally {
      await again.stop();
    }
  });
});

describe("npm start on a port in use", () => {
  it("stops before starting anything and says which variable picks another port", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    const dataDir = await mkdtemp(join(tmpdir(), "pier-e2e-port-"));
    try {
      const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
        cwd: fileURLToPath(new URL("../..", import.meta.url)),
        env: { ...process.env, PIER_DATA_DIR: dataDir, PORT: String(port), WRANGLER_SEND_METRICS: "false" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      const [code] = await once(child, "exit");
      expect(code).toBe(1);
      expect(output).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(output).toContain("PORT=");
      expect(output).not.toContain("Pier is up");
      expect(output).not.toContain("libSQL");
    } finally {
      taken.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
