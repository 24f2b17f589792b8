import { createRoute, z } from "@hono/zod-openapi";
import { BACKUP_NOTIFY_KINDS, BACKUP_RUN_STATUSES, BACKUP_RUN_TRIGGERS, BACKUP_TARGET_KINDS } from "../db/schema.ts";
import { requireAuth } from "../middleware/auth.ts";
import { authedActor } from "../middleware/request-context.ts";
import {
  createPolicy,
  deletePolicy,
  getPolicy,
  listPolicies,
  listPolicyRuns,
  PolicyCreate,
  PolicyPatch,
  PolicyTarget,
  previewSchedule,
  runPolicyNow,
  updatePolicy,
} from "../services/backup-policies.ts";
import {
  authErrors,
  bearerSecurity,
  conflictError,
  createRouter,
  IdParam,
  jsonBody,
  jsonResponse,
  notFoundError,
  problem,
  validationErrors,
} from "./openapi.ts";

// Backup policies: a target backed up on a cron schedule (in the policy's time zone) to a
// destination, with retention by count and by age and the notifications its runs send. Viewers
// read; admins manage; members may run one now.
export const backupPolicyRoutes = createRouter();
backupPolicyRoutes.use("*", requireAuth());

const Target = PolicyTarget.openapi("BackupTarget", {
  description:
    "A volume on a host (`{kind: volume, host_id, name}`), a database service (`{kind: database, database_id}`) or a container on a host (`{kind: container, host_id, id}`).",
});

const RunView = z
  .object({
    id: z.string(),
    policy_id: z.string(),
    trigger: z.enum(BACKUP_RUN_TRIGGERS).openapi({
      description: "`schedule`; `catch_up` (one run for scheduled times missed while Pier was down); `manual` (run now).",
    }),
    scheduled_for: z.string().nullable(),
    status: z.enum(BACKUP_RUN_STATUSES).openapi({
      description: "`skipped` when the policy's previous run was still going: a policy never runs twice at once.",
    }),
    task_id: z.string().nullable().openapi({ description: "The backup's task: progress in bytes and its log." }),
    backup_id: z.string().nullable(),
    message: z.string().nullable(),
    pruned: z.array(z.string()).openapi({ description: "Backups the policy's retention deleted after this run succeeded." }),
    created_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .openapi("BackupPolicyRun");

const PolicyView = z
  .object({
    id: z.string(),
    name: z.string(),
    target: Target,
    schedule: z.string().openapi({ example: "0 3 * * *" }),
    timezone: z.string().openapi({ example: "Europe/Berlin" }),
    keep_last: z.number().int().nullable(),
    max_age_days: z.number().int().nullable(),
    destination_id: z.string().openapi({ description: "`default` (the Worker's R2 bucket) or a backup destination's id." }),
    notify: z.array(z.enum(BACKUP_NOTIFY_KINDS)),
    enabled: z.boolean(),
    next_run_at: z.string().nullable(),
    last_run: RunView.nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("BackupPolicy");

const PolicyId = IdParam("id", "bpl_0123456789abcdefghij");
const SCHEDULE =
  "`schedule` is five-field cron (minute hour day-of-month month day-of-week) or @daily/@weekly/…, read by croner in `timezone` (an IANA name, UTC by default); a pattern or zone croner cannot read is a 400 in its words. `keep_last` (default 7) and `max_age_days` are the retention, applied after each successful run to this policy's backups only (null: no limit). An unknown target or destination is a 422.";
const badSchedule = { 400: problem("The schedule or time zone cannot be read (croner's message).") } as const;

backupPolicyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/",
    tags: ["backups"],
    summary: "The organization's backup policies, with each one's last run and next run time",
    security: bearerSecurity,
    request: {
      query: z.object({
        target_kind: z.enum(BACKUP_TARGET_KINDS).optional(),
        host_id: z.string().max(64).optional(),
        target_ref: z
          .string()
          .max(256)
          .optional()
          .openapi({ description: "A volume's name, a database service's id or a container's id." }),
      }),
    },
    responses: { 200: jsonResponse(z.object({ policies: z.array(PolicyView) }), "The policies."), ...validationErrors, ...authErrors },
  }),
  async (c) => c.json({ policies: await listPolicies(c.var.db, c.var.principal, c.req.valid("query")) }, 200),
);

backupPolicyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/schedule-preview",
    tags: ["backups"],
    summary: "The next times a cron schedule comes due in a time zone (the screens' cron helper)",
    security: bearerSecurity,
    request: {
      query: z.object({
        schedule: z.string().min(1).max(200).openapi({ example: "0 3 * * *" }),
        timezone: z.string().min(1).max(64).default("UTC"),
        count: z.coerce.number().int().min(1).max(20).default(5),
      }),
    },
    responses: {
      200: jsonResponse(z.object({ next_runs: z.array(z.string()) }), "The next times, UTC ISO 8601."),
      ...badSchedule,
      ...validationErrors,
      ...authErrors,
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    return c.json({ next_runs: previewSchedule(q.schedule, q.timezone, q.count) }, 200);
  },
);

backupPolicyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/",
    tags: ["backups"],
    summary: "Create a backup policy and arm its schedule (manage_backups and admin_access)",
    description: SCHEDULE,
    security: bearerSecurity,
    request: { body: jsonBody(PolicyCreate.openapi("BackupPolicyCreate")) },
    responses: { 201: jsonResponse(PolicyView, "Created."), ...badSchedule, ...validationErrors, ...authErrors },
  }),
  async (c) => c.json(await createPolicy(c.var.db, c.env, authedActor(c), c.req.valid("json")), 201),
);

backupPolicyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    tags: ["backups"],
    summary: "One backup policy",
    security: bearerSecurity,
    request: { params: PolicyId },
    responses: { 200: jsonResponse(PolicyView, "The policy."), ...authErrors, ...notFoundError },
  }),
  async (c) => c.json(await getPolicy(c.var.db, c.var.principal, c.req.valid("param").id), 200),
);

backupPolicyRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/{id}",
    tags: ["backups"],
    summary: "Change a policy's schedule, retention, destination, notifications, or switch it on or off (manage_backups and admin_access)",
    description: `${SCHEDULE} The target cannot change: a policy's backups are one target's.`,
    security: bearerSecurity,
    request: { params: PolicyId, body: jsonBody(PolicyPatch.openapi("BackupPolicyPatch")) },
    responses: {
      200: jsonResponse(PolicyView, "Saved, and the schedule armed again."),
      ...badSchedule,
      ...validationErrors,
      ...authErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json(await updatePolicy(c.var.db, c.env, authedActor(c), c.req.valid("param").id, c.req.valid("json")), 200),
);

backupPolicyRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/{id}",
    tags: ["backups"],
    summary: "Delete a policy and its run history; the backups it made stay (manage_backups and admin_access)",
    security: bearerSecurity,
    request: { params: PolicyId },
    responses: { 204: { description: "Deleted." }, ...authErrors, ...notFoundError },
  }),
  async (c) => {
    await deletePolicy(c.var.db, c.env, authedActor(c), c.req.valid("param").id);
    return c.body(null, 204);
  },
);

backupPolicyRoutes.openapi(
  createRoute({
    method: "post",
    path: "/{id}/run",
    tags: ["backups"],
    summary: "Run the policy now, besides its schedule (manage_backups)",
    description: "Answers the run: its task (`task_id`) follows the backup's progress. A 409 while a run of the policy is still going.",
    security: bearerSecurity,
    request: { params: PolicyId },
    responses: { 202: jsonResponse(RunView, "Started."), ...authErrors, ...notFoundError, ...conflictError },
  }),
  async (c) => c.json(await runPolicyNow(c.var.db, c.env, authedActor(c), c.req.valid("param").id), 202),
);

backupPolicyRoutes.openapi(
  createRoute({
    method: "get",
    path: "/{id}/runs",
    tags: ["backups"],
    summary: "The policy's runs, newest first: started, skipped, failed to start, and what retention pruned",
    security: bearerSecurity,
    request: { params: PolicyId, query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }) },
    responses: {
      200: jsonResponse(z.object({ runs: z.array(RunView) }), "The runs."),
      ...validationErrors,
      ...authErrors,
      ...notFoundError,
    },
  }),
  async (c) => c.json({ runs: await listPolicyRuns(c.var.db, c.var.principal, c.req.valid("param").id, c.req.valid("query").limit) }, 200),
);
