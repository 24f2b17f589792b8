import { containerOps } from "./containers.ts";
import type { OpHandlers } from "./context.ts";
import { deployBuild } from "./deploy-build.ts";
import { deployRemove, deployRun } from "./deploy-run.ts";
import { containerExec } from "./exec.ts";
import { imageOps } from "./images.ts";
import { containerLogs } from "./logs.ts";
import { otherOps } from "./system.ts";

export type { OpContext, OpHandler, OpHandlers } from "./context.ts";

/** Every op in the protocol's OPS table has a handler; the type checker holds us to it. */
export const handlers: OpHandlers = {
  ...containerOps,
  ...otherOps,
  ...imageOps,
  "container.logs": containerLogs,
  "container.exec": containerExec,
  "deploy.build": deployBuild,
  "deploy.run": deployRun,
  "deploy.remove": deployRemove,
};
