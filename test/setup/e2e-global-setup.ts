import type { TestProject } from "vitest/node";
import { type DockerAvailability, requireDocker } from "../../agent-relay/test/docker-available.ts";
import { type Stack, startStack } from "./stack.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pierUrl: string;
    dockerAvailable: boolean;
  }
}

// Open registration so each test file owns an organization of its own; a generous rate
// limit so the tests' own pace is never what they measure.
// Notification channels deliver to the tests' loopback receivers, and retry quickly.
const STACK_ENV: Record<string, string> = {
  PIER_OPEN_REGISTRATION: "true",
  PIER_RATE_LIMIT_PER_MINUTE: "100000",
  PIER_ALLOW_PRIVATE_URLS: "true",
  PIER_NOTIFY_RETRY_BASE_MS: "200",
  PIER_HOST_DISCONNECT_NOTICE_MS: "1000",
  // Agents here share a loaded machine with the tests driving them: 10 s before a missing ack
  // counts as a frozen agent (5 s by default), so a starved test process is not taken for one.
  PIER_AGENT_ACK_TIMEOUT_MS: "10000",
  // Two images kept per application, so the retention test needs three deployments, not six.
  PIER_KEEP_DEPLOYMENT_IMAGES: "2",
};

/**
 * The stack both end-to-end projects (`e2e` and `e2e-browser`, vitest.config.ts) drive: started by
 * the first project's setup, stopped after the last one's teardown. It is kept on globalThis
 * because vitest may load this module once per project, and one `npm start` is enough.
 */
interface SharedStack {
  docker: Promise<DockerAvailability>;
  stack: Promise<Stack>;
  users: number;
}
const SHARED = "__pierE2eStack";
const holder = globalThis as { [SHARED]?: SharedStack };

export default async function setup(project: TestProject) {
  if (!holder[SHARED]) {
    const docker = requireDocker("the end-to-end tests");
    holder[SHARED] = { docker, stack: docker.then(() => startStack(STACK_ENV)), users: 0 };
  }
  const current = holder[SHARED];
  current.users++;
  const [docker, stack] = await Promise.all([current.docker, current.stack]);
  project.provide("pierUrl", stack.url);
  project.provide("dockerAvailable", docker.available);
  return async () => {
    if (--current.users > 0) return;
    if (holder[SHARED] === current) delete holder[SHARED];
    await stack.stop();
  };
}
