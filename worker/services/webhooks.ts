// Push webhooks from GitHub, GitLab and Bitbucket: who sent a delivery (by its headers), whether
// its signature holds (each provider's own scheme, on the raw body, in constant time), what it
// asks for (a push to which branch and commit), and what Pier did about it — stored for every
// delivery, deduplicated by the provider's delivery id.
//
//   GitHub     X-GitHub-Event, X-GitHub-Delivery, X-Hub-Signature-256: sha256=<hex HMAC-SHA256>
//   GitLab     X-Gitlab-Event, X-Gitlab-Event-UUID, X-Gitlab-Token: <the secret itself>
//   Bitbucket  X-Event-Key, X-Request-UUID (X-Hook-UUID), X-Hub-Signature: sha256=<hex HMAC-SHA256>
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { auditEvents, webhookDeliveries } from "../db/schema.ts";
import { isUniqueViolation } from "../db/errors.ts";
import type { Bindings } from "../env.ts";
import { decryptSecret, timingSafeEqual } from "../lib/crypto.ts";
import { newId } from "../lib/ids.ts";
import { newestFirstPage, type PageQuery } from "../lib/pagination.ts";
import { nowIso } from "../lib/time.ts";
import type { ApplicationRow } from "./applications.ts";
import { errorText } from "../db/errors.ts";

export type Provider = "github" | "gitlab" | "bitbucket";
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export type Outcome =
  | "deployed"
  | "coalesced"
  | "duplicate"
  | "ignored"
  | "skipped"
  | "rejected"
  | "ping"
  | "invalid"
  | "failed"
  /** In an acknowledgement only: the deployment is queued after the answer (WebhookInbox). */
  | "queued";

/** What a verified payload asks for. */
export type WebhookIntent =
  | { kind: "ping" }
  | { kind: "push"; branch: string | null; ref: string; commit: string | null; message: string; deleted: boolean }
  | { kind: "other"; event: string };

export function detectProvider(headers: Headers): Provider | null {
  if (headers.has("x-github-event")) return "github";
  if (headers.has("x-gitlab-event") || headers.has("x-gitlab-token")) return "gitlab";
  if (
    headers.has("x-event-key") &&
    (headers.has("x-request-uuid") || headers.has("x-hook-uuid") || (headers.get("user-agent") ?? "").startsWith("Bitbucket"))
  )
    return "bitbucket";
  return null;
}

export function eventOf(provider: Provider, headers: Headers): string | null {
  return headers.get(provider === "github" ? "x-github-event" : provider === "gitlab" ? "x-gitlab-event" : "x-event-key");
}

export function deliveryIdOf(provider: Provider, headers: Headers): string | null {
  const id =
    provider === "github"
      ? headers.get("x-github-delivery")
      : provider === "gitlab"
        ? headers.get("x-gitlab-event-uuid")
        : (headers.get("x-request-uuid") ?? headers.get("x-hook-uuid"));
  return id ? id.slice(0, 200) : null;
}

export async function hmacSha256Hex(secret: string, body: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, body);
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `sha256=<hex>` over the raw body, compared in constant time (GitHub's and Bitbucket's scheme). */
export async function verifyHmacHeader(header: string | null, secret: string, body: Uint8Array): Promise<boolean> {
  if (!header) return false;
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim());
  if (!match) return false;
  return timingSafeEqual(match[1]!.toLowerCase(), await hmacSha256Hex(secret, body));
}

export async function verifyGitHubSignature(headers: Headers, secret: string, body: Uint8Array): Promise<boolean> {
  return verifyHmacHeader(headers.get("x-hub-signature-256"), secret, body);
}

export async function verifyBitbucketSignature(headers: Headers, secret: string, body: Uint8Array): Promise<boolean> {
  return verifyHmacHeader(headers.get("x-hub-signature"), secret, body);
}

export function verifyGitLabToken(headers: Headers, secret: string): boolean {
  const token = headers.get("x-gitlab-token");
  return token !== null && timingSafeEqual(token, secret);
}

/** Whether the delivery carries a valid signature of `secret` in its provider's scheme. */
export async function verifyDelivery(provider: Provider, headers: Headers, secret: string, body: Uint8Array): Promise<boolean> {
  if (provider === "github") return verifyGitHubSignature(headers, secret, body);
  if (provider === "gitlab") return verifyGitLabToken(headers, secret);
  return verifyBitbucketSignature(headers, secret, body);
}

/** Why a delivery failed verification, for its record (never the expected value). */
export function signatureProblem(provider: Provider, headers: Headers): string {
  const header = provider === "github" ? "X-Hub-Signature-256" : provider === "gitlab" ? "X-Gitlab-Token" : "X-Hub-Signature";
  return headers.has(header)
    ? `${header} does not match the webhook secret`
    : `${header} is missing: set the webhook secret in ${provider === "github" ? "GitHub" : provider === "gitlab" ? "GitLab" : "Bitbucket"}`;
}

/** The JSON payload of a delivery: a JSON body, or GitHub's form encoding (`payload=<json>`). */
export function parsePayload(body: Uint8Array, contentType: string | null): unknown {
  const text = new TextDecoder().decode(body);
  if ((contentType ?? "").includes("application/x-www-form-urlencoded")) {
    const payload = new URLSearchParams(text).get("payload");
    if (payload === null) throw new SyntaxError("form-encoded delivery without a payload field");
    return JSON.parse(payload);
  }
  return JSON.parse(text);
}

const obj = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const branchOf = (ref: string | null): string | null => (ref?.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : null);
const ZERO_SHA = /^0+$/;

/**
 * What a payload asks for. The event header wins where there is one; without headers (DevFlow's
 * documented payloads) the shape tells: `object_kind: push` is GitLab, `push.changes` Bitbucket,
 * `ref` + `after` GitHub.
 */
export function intentOf(provider: Provider | null, event: string | null, payload: unknown): WebhookIntent {
  const p = obj(payload);
  const kind = provider ?? (p.object_kind !== undefined ? "gitlab" : obj(p.push).changes !== undefined ? "bitbucket" : "github");
  if (kind === "github") {
    if (event === "ping" || (event === null && p.zen !== undefined && p.hook_id !== undefined)) return { kind: "ping" };
    if (event !== null && event !== "push") return { kind: "other", event };
    const ref = str(p.ref) ?? "";
    const head = obj(p.head_commit);
    const after = str(p.after);
    return {
      kind: "push",
      ref,
      branch: branchOf(ref),
      commit: after && !ZERO_SHA.test(after) ? after : str(head.id),
      message: str(head.message) ?? "",
      deleted: p.deleted === true || (after !== null && ZERO_SHA.test(after)),
    };
  }
  if (kind === "gitlab") {
    if (event !== null && event !== "Push Hook" && event !== "System Hook") return { kind: "other", event };
    if (str(p.object_kind) !== "push") return { kind: "other", event: str(p.object_kind) ?? event ?? "unknown" };
    const ref = str(p.ref) ?? "";
    const sha = str(p.checkout_sha) ?? str(p.after);
    const commits = Array.isArray(p.commits) ? p.commits.map(obj) : [];
    // The head commit is the one checked out; GitLab lists commits oldest first.
    const head = commits.find((c) => c.id === sha) ?? commits.at(-1) ?? {};
    return {
      kind: "push",
      ref,
      branch: branchOf(ref),
      commit: sha && !ZERO_SHA.test(sha) ? sha : null,
      message: str(head.message) ?? "",
      deleted: p.checkout_sha === null || (str(p.after) !== null && ZERO_SHA.test(str(p.after)!)),
    };
  }
  if (event === "diagnostics:ping") return { kind: "ping" };
  if (event !== null && event !== "repo:push") return { kind: "other", event };
  const changes = Array.isArray(obj(p.push).changes) ? (obj(p.push).changes as unknown[]).map(obj) : [];
  // One push can move several branches; the last change naming a branch is this delivery's.
  const change =
    [...changes].reverse().find((c) => obj(c.new).type === "branch" || (obj(c.new).name && !obj(c.new).type)) ?? changes.at(-1) ?? {};
  const next = obj(change.new);
  const target = obj(next.target);
  const name = str(next.name);
  return {
    kind: "push",
    ref: name ? `refs/heads/${name}` : "",
    branch: name,
    commit: str(target.hash),
    message: str(target.message) ?? "",
    deleted: change.new === null || change.closed === true,
  };
}

export const skipRequested = (message: string): boolean => /\[(skip ci|ci skip)\]/i.test(message);

/** The detail of a deploying delivery's row until its deployment is queued. */
export const RECEIVED = "received";

export interface DeliveryInput {
  provider: Provider | "generic";
  event: string | null;
  deliveryId: string | null;
  verified: boolean;
  /** Why it was rejected or could not be read. */
  problem?: { outcome: "rejected" | "invalid"; detail: string };
  intent?: WebhookIntent;
  trigger: "webhook" | "devflow";
  /** A push deploys the branch head when it names no commit (DevFlow with only a bearer token). */
  deployHead?: boolean;
}

export interface DeliveryResult {
  /** 202 for a deployment queued, 200 for nothing to do, 401/400 for rejected/invalid. */
  status: 200 | 202 | 400 | 401;
  outcome: Outcome;
  detail: string;
  deliveryRowId: string;
  deploymentId: string | null;
}

/** What a verified delivery comes to, from the application and the payload alone (no database). */
export type Decision = { deploy: true } | { deploy: false; outcome: Outcome; detail: string };

export function decideDelivery(app: Pick<ApplicationRow, "sourceType" | "gitBranch">, input: DeliveryInput): Decision {
  const intent = input.intent!;
  const done = (outcome: Outcome, detail: string): Decision => ({ deploy: false, outcome, detail });
  if (intent.kind === "ping") return done("ping", "pong: the webhook is set up");
  if (intent.kind === "other") return done("ignored", `${intent.event} events do not deploy; only pushes do`);
  if (intent.deleted) return done("ignored", `${intent.ref} was deleted`);
  if (app.sourceType === "git") {
    if (!intent.branch) return done("ignored", `${intent.ref || "the push"} is not a branch`);
    if (intent.branch !== app.gitBranch) return done("ignored", `push to ${intent.branch}; the application deploys ${app.gitBranch}`);
  }
  if (skipRequested(intent.message)) return done("skipped", "the head commit asks to skip CI ([skip ci] / [ci skip])");
  if (!intent.commit && !input.deployHead) return done("ignored", "the push names no commit");
  return { deploy: true };
}

/** The row id and time of a delivery received earlier (WebhookInbox records it after its answer). */
export interface ReceivedAt {
  rowId: string;
  createdAt: string;
}

/**
 * Records a delivery and acts on it. A delivery id is claimed with a unique index, so two copies
 * of one delivery racing each other deploy once. A delivery that deploys nothing is one insert.
 */
export async function handleDelivery(
  db: Database,
  env: Bindings,
  app: ApplicationRow,
  input: DeliveryInput,
  at: ReceivedAt = { rowId: newId("whd"), createdAt: nowIso() },
): Promise<DeliveryResult> {
  const base = {
    organizationId: app.organizationId,
    applicationId: app.id,
    provider: input.provider,
    event: input.event,
    deliveryId: input.deliveryId,
    verified: input.verified,
    createdAt: at.createdAt,
  } as const;
  const record = async (id: string, outcome: Outcome, detail: string, extra: Partial<DeliveryRow> = {}): Promise<string> => {
    await db
      .insert(webhookDeliveries)
      .values({ id, ...base, dedupeKey: null, outcome, detail, ref: null, commitSha: null, deploymentId: null, ...extra });
    return id;
  };
  if (input.problem || !input.verified) {
    const problem = input.problem ?? { outcome: "rejected" as const, detail: "the signature is missing or wrong" };
    const id = await record(at.rowId, problem.outcome, problem.detail);
    return {
      status: problem.outcome === "rejected" ? 401 : 400,
      outcome: problem.outcome,
      detail: problem.detail,
      deliveryRowId: id,
      deploymentId: null,
    };
  }
  const intent = input.intent!;
  const push = intent.kind === "push" ? intent : null;
  const pushFields = push ? { ref: push.ref || null, commitSha: push.commit } : {};
  const decision = decideDelivery(app, input);
  // Decided before the insert, so the first copy's row is written once with its outcome.
  const first = decision.deploy ? { outcome: "ignored" as const, detail: RECEIVED } : decision;

  // Claim the delivery id: the first copy inserts it, a second one hits the unique index.
  const rowId = at.rowId;
  const dedupeKey = input.deliveryId ? `${input.provider}:${input.deliveryId}` : null;
  try {
    await record(rowId, first.outcome, first.detail, { dedupeKey, ...pushFields });
  } catch (err) {
    if (!dedupeKey || !isUniqueViolation(err, "webhook_deliveries", "dedupe_key")) throw err;
    const [earlier] = await db
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.applicationId, app.id), eq(webhookDeliveries.dedupeKey, dedupeKey)))
      .limit(1);
    const detail = `delivery ${input.deliveryId} was already received (${earlier?.id ?? "earlier"}); not deployed again`;
    const id = await record(rowId, "duplicate", detail, { ...pushFields, deploymentId: earlier?.deploymentId ?? null });
    return { status: 200, outcome: "duplicate", detail, deliveryRowId: id, deploymentId: earlier?.deploymentId ?? null };
  }
  const settle = async (
    outcome: Outcome,
    detail: string,
    status: DeliveryResult["status"],
    deploymentId: string | null = null,
  ): Promise<DeliveryResult> => {
    await db.update(webhookDeliveries).set({ outcome, detail, deploymentId }).where(eq(webhookDeliveries.id, rowId));
    return { status, outcome, detail, deliveryRowId: rowId, deploymentId };
  };
  if (!decision.deploy)
    return { status: 200, outcome: decision.outcome, detail: decision.detail, deliveryRowId: rowId, deploymentId: null };

  try {
    const title =
      push!.message.split("\n")[0]?.trim().slice(0, 200) ||
      (push!.commit ? `Push ${push!.commit.slice(0, 12)}` : `Push to ${push!.branch ?? "the branch"}`);
    const result = await env.DEPLOY_QUEUE.getByName(app.id).enqueue({
      organizationId: app.organizationId,
      applicationId: app.id,
      trigger: input.trigger,
      title,
      ref: app.sourceType === "git" ? (push!.branch ?? app.gitBranch) : null,
      commit: app.sourceType === "git" ? push!.commit : null,
      commitMessage: push!.message || null,
      supersede: true,
      webhookDeliveryId: rowId,
    });
    await db.insert(auditEvents).values({
      id: newId("aud"),
      organizationId: app.organizationId,
      actorType: "system",
      actorId: null,
      action: "deployment.create",
      targetType: "deployment",
      targetId: result.deployment.id,
      ip: null,
      userAgent: null,
      metadata: {
        via: input.trigger,
        provider: input.provider,
        delivery: rowId,
        application_id: app.id,
        commit: push!.commit,
        coalesced: result.coalesced,
      },
      createdAt: nowIso(),
    });
    return settle(
      result.coalesced ? "coalesced" : "deployed",
      result.coalesced ? `commit already queued as ${result.deployment.id}` : `deployment ${result.deployment.id} queued`,
      202,
      result.deployment.id,
    );
  } catch (err) {
    await settle("failed", `could not queue the deployment: ${errorText(err)}`.slice(0, 500), 200);
    // Release the delivery id, so the provider's redelivery of this push is not a "duplicate".
    await db.update(webhookDeliveries).set({ dedupeKey: null }).where(eq(webhookDeliveries.id, rowId));
    throw err;
  }
}

/** The secret a delivery must be signed with. */
export async function webhookSecretOf(env: Bindings, app: ApplicationRow): Promise<string> {
  return decryptSecret(app.webhookSecretEncrypted, env.ENCRYPTION_KEY);
}

export async function listDeliveries(db: Database, organizationId: string, applicationId: string, page: PageQuery) {
  return newestFirstPage(
    db.select().from(webhookDeliveries).$dynamic(),
    webhookDeliveries,
    page,
    eq(webhookDeliveries.organizationId, organizationId),
    eq(webhookDeliveries.applicationId, applicationId),
  );
}

/** A delivery without any provider's headers: refused and recorded. */
export const NO_PROVIDER: DeliveryInput = {
  provider: "generic",
  event: null,
  deliveryId: null,
  verified: false,
  trigger: "webhook",
  problem: { outcome: "rejected", detail: "no GitHub, GitLab or Bitbucket headers" },
};

/** Longer commit messages are cut to this in a delivery waiting to be recorded. */
const MESSAGE_CHARS = 64 * 1024;

/**
 * Who sent a delivery, whether its signature holds and what it asks for: everything about it that
 * needs no database. Null when no provider's headers are present.
 */
export async function readDelivery(
  headers: Headers,
  body: Uint8Array,
  secret: string,
  trigger: "webhook" | "devflow",
): Promise<DeliveryInput | null> {
  const provider = detectProvider(headers);
  if (!provider) return null;
  const event = eventOf(provider, headers);
  const deliveryId = deliveryIdOf(provider, headers);
  if (!(await verifyDelivery(provider, headers, secret, body)))
    return {
      provider,
      event,
      deliveryId,
      verified: false,
      trigger,
      problem: { outcome: "rejected", detail: signatureProblem(provider, headers) },
    };
  let payload: unknown;
  try {
    payload = parsePayload(body, headers.get("content-type"));
  } catch (err) {
    return {
      provider,
      event,
      deliveryId,
      verified: true,
      trigger,
      problem: { outcome: "invalid", detail: `the payload is not JSON: ${(err as Error).message}`.slice(0, 300) },
    };
  }
  const intent = intentOf(provider, event, payload);
  if (intent.kind === "push" && intent.message.length > MESSAGE_CHARS) intent.message = intent.message.slice(0, MESSAGE_CHARS);
  return { provider, event, deliveryId, verified: true, trigger, intent };
}

/** Verifies and records a provider's delivery, then acts on it, before answering (DevFlow's route). */
export async function receiveProviderDelivery(
  db: Database,
  env: Bindings,
  app: ApplicationRow,
  trigger: "webhook" | "devflow",
  request: { headers: Headers; body: Uint8Array },
): Promise<DeliveryResult | null> {
  const input = await readDelivery(request.headers, request.body, await webhookSecretOf(env, app), trigger);
  return input && handleDelivery(db, env, app, input);
}
