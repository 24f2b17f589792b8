import { Hono } from "hono";
import type { AppEnv } from "../env.ts";
import { devflowCompat } from "./devflow.ts";
import { dockerApiCompat } from "./docker-api.ts";
import { serverManagerCompat } from "./server-manager.ts";

/**
 * The compatibility surfaces (seeds/README.md): thin adapters over the same services, each with
 * its seed document's paths, envelopes and status codes.
 */
export const compatRoutes = new Hono<AppEnv>();
compatRoutes.route("/", dockerApiCompat);
compatRoutes.route("/", devflowCompat);
compatRoutes.route("/", serverManagerCompat);
