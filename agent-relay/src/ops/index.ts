import { archiveOps } from "./archive.ts";
import { composeOps } from "./compose.ts";
import { containerAdminOps } from "./container-admin.ts";
import { containerOps } from "./containers.ts";
import { hostFileOps } from "./host-files.ts";
import type { OpHandler, OpHandlers } from "./context.ts";
import { containerExec } from "./exec.ts";
import { imageAdminOps } from "./image-admin.ts";
import { imageOps } from "./images.ts";
import { housekeepingOps } from "./housekeeping.ts";
import { containerLogs } from "./logs.ts";
import { networkOps } from "./networks.ts";
import { otherOps } from "./system.ts";
import { volumeOps } from "./volumes.ts";
import { backupOps } from "./backups.ts";
import { firewallOps } from "./firewall.ts";

export type { OpContext, OpHandler, OpHandlers } from "./context.ts";

// Deployment code (git, builds, tars, the deploy engine) is loaded on the first deploy command:
// most of the time an agent only relays container commands, and in the bundle (build.ts) these
// modules are separate chunks that an idle agent never reads into memory.
const deployBuild: OpHandler<"deploy.build"> = async (args, ctx) => (await import("./deploy-build.ts")).deployBuild(args, ctx);
const deployRun: OpHandler<"deploy.run"> = async (args, ctx) => (await import("./deploy-run.ts")).deployRun(args, ctx);
const deployRemove: OpHandler<"deploy.remove"> = async (args, ctx) => (await import("./deploy-run.ts")).deployRemove(args, ctx);
// Database dumps too: they run now and then, on a schedule.
const databaseDump: OpHandler<"database.dump"> = async (args, ctx) => (await import("./dumps.ts")).dumpOps["database.dump"](args, ctx);
const databaseRestore: OpHandler<"database.restore"> = async (args, ctx) =>
  (await import("./dumps.ts")).dumpOps["database.restore"](args, ctx);
const deployPrune: OpHandler<"deploy.prune"> = async (args, ctx) => (await import("./deploy-images.ts")).deployPrune(args, ctx);

/** Every op in the protocol's OPS table has a handler; the type checker holds us to it. */
export const handlers: OpHandlers = {
  ...containerOps,
  ...otherOps,
  ...imageOps,
  ...volumeOps,
  ...backupOps,
  ...networkOps,
  ...housekeepingOps,
  ...composeOps,
  ...hostFileOps,
  ...imageAdminOps,
  ...containerAdminOps,
  ...archiveOps,
  ...firewallOps,
  "container.logs": containerLogs,
  "container.exec": containerExec,
  "deploy.build": deployBuild,
  "deploy.run": deployRun,
  "deploy.remove": deployRemove,
  "deploy.prune": deployPrune,
  "database.dump": databaseDump,
  "database.restore": databaseRestore,
};
