// First: @hono/zod-openapi adds \`.openapi()\` to zod schemas created after it loads, and routes call
// it on schemas the relay protocol (#protocol) creates; whichever module reaches #protocol first,
// the schemas must be made after the extension.
import "@hono/zod-openapi";
import { createApp } from "./app.ts";
import type { Bindings } from "./env.ts";
import { runScheduled } from "./scheduled.ts";

export { ChannelDispatcher } from "./durable/channel-dispatcher.ts";
export { DeployQueue } from "./durable/deploy-queue.ts";
export { TaskRunner } from "./durable/task-runner.ts";
export { EventHub } from "./durable/event-hub.ts";
export { HostRelay } from "./durable/host-relay.ts";
export { NotificationHub } from "./durable/notification-hub.ts";
export { RateLimiter } from "./durable/rate-limiter.ts";
export { LoginGuard } from "./durable/login-guard.ts";
export { BackupScheduler } from "./durable/backup-scheduler.ts";
export { WebhookInbox } from "./durable/webhook-inbox.ts";

const app = createApp();

export default {
  fetch: app.fetch,
  // Metrics, notification and delivery-log retention; expiring-credential notices.
  scheduled: (controller, env, ctx) => ctx.waitUntil(runScheduled(env, controller.scheduledTime)),
} satisfies ExportedHandler<Bindings>;
