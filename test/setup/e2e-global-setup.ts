import type { TestProject } from "vitest/node";
import { requireDocker } from "../../agent-relay/test/docker-available.ts";
import { startStack } from "./stack.ts";

declare module "vitest" {
  export interface ProvidedContext {
    pierUrl: string;
    dockerAvailable: boolean;
  }
}

export default async function setup(project: TestProject) {
  const docker = await requireDocker("the end-to-end tests");
  // Open registration so each test file owns an organization of its own; a generous rate
  // limit so the tests' own pace is never what they measure.
  // Notification channels deliver to the tests' loopback receivers, and retry quickly.
  const stack = await startStack({
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
  });
  project.provide("pierUrl", stack.url);
  project.provide("dockerAvailable", docker.available);
  return async () => {
    await stack.stop();
  };
}
