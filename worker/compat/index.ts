import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { devflowCompat } from "./devflow.ts";
import { devflowDockerCompat } from "./devflow-docker.ts";
import { dokployCompat } from "./dokploy.ts";
import { dockerApiCompat } from "./docker-api.ts";
import { serverManagerCompat } from "./server-manager.ts";
import { serverManagerServersCompat } from "./server-manager-servers.ts";
import { firewallCompat } from "./server-manager-firewall.ts";
import { serverBackupV1Compat, serverBackupV2Compat } from "./server-manager-backups.ts";
import { serverManagerIamCompat } from "./server-manager-iam.ts";
import { devflowMetricsCompat, monitoringV2Compat } from "./monitoring.ts";
import { serverManagerOpsCompat } from "./server-manager-ops.ts";
import { notificationCompat, taskV1Compat, taskV2Compat } from "./server-manager-notifications.ts";

/**
 * The compatibility surfaces (seeds/README.md): thin adapters over the same services, each with
 * its seed document's paths, envelopes and status codes.
 */
export const compatRoutes = new Hono<AppEnv>();
compatRoutes.route("/", dockerApiCompat);
compatRoutes.route("/", devflowCompat);
compatRoutes.route("/", devflowDockerCompat);
compatRoutes.route("/", serverManagerCompat);
compatRoutes.route("/", firewallCompat);
compatRoutes.route("/", serverBackupV2Compat);
compatRoutes.route("/", serverBackupV1Compat);
compatRoutes.route("/", serverManagerIamCompat);
compatRoutes.route("/", notificationCompat);
compatRoutes.route("/", taskV2Compat);
compatRoutes.route("/", serverManagerServersCompat);
compatRoutes.route("/", taskV1Compat);
compatRoutes.route("/", devflowMetricsCompat);
compatRoutes.route("/", monitoringV2Compat);
compatRoutes.route("/", serverManagerOpsCompat);
compatRoutes.route("/", dokployCompat);
