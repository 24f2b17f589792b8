import type { OpName } from "../src/protocol.ts";

/**
 * The container and image operations, for tests that name every one of them. Listed, not read
 * from OPS: a value import of the protocol builds its schemas, and the Worker's tests must not do
 * that before the Worker's entry loads @hono/zod-openapi (see worker/index.ts).
 */
export const CONTAINER_AND_IMAGE_OPS: OpName[] = [
  "container.list",
  "container.inspect",
  "container.create",
  "container.start",
  "container.stop",
  "container.restart",
  "container.kill",
  "container.pause",
  "container.unpause",
  "container.remove",
  "container.logs",
  "container.top",
  "container.exec",
  "container.stats",
  "image.list",
  "image.pull",
  "image.remove",
];
