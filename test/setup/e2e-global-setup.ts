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
  const stack = await startStack({ PIER_OPEN_REGISTRATION: "true", PIER_RATE_LIMIT_PER_MINUTE: "100000" });
  project.provide("pierUrl", stack.url);
  project.provide("dockerAvailable", docker.available);
  return async () => {
    await stack.stop();
  };
}
