import { z } from "@hono/zod-openapi";
import { and, asc, desc, eq, isNull, lte, min, or } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import {
  auditEvents,
  notificationChannels,
  notificationDeliveries,
  type ChannelType,
  type DeliveryPayload,
  type Severity,
} from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { invalid, notFound } from "../errors.ts";
import { decryptSecret, encryptSecret } from "../lib/crypto.ts";
import { newId } from "../lib/ids.ts";
import { cursorCondition, decodeCursor, toPage, type PageQuery } from "../lib/pagination.ts";
import { nowIso } from "../lib/time.ts";
import { auditRow } from "./audit.ts";
import { requireRole, type Actor, type Principal } from "./principal.ts";

export type ChannelRow = typeof notificationChannels.$inferSelect;
export type DeliveryRow = typeof notificationDeliveries.$inferSelect;
type Admin = Actor & { principal: Principal };

// ---- configuration --------------------------------------------------------------------------------

const Url = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2048);

/** Each type's config. Fields named in SECRET_FIELDS are masked when read back. */
export const CHANNEL_CONFIGS = {
  slack: z.object({ webhook_url: Url.openapi({ description: "A Slack incoming-webhook URL." }) }).strict(),
  discord: z.object({ webhook_url: Url.openapi({ description: "A Discord channel webhook URL." }) }).strict(),
  telegram: z
    .object({
      bot_token: z
        .string()
        .min(20)
        .max(200)
        .regex(/^\d+:[\w-]+$/, "must look like 123456:ABC-DEF… (from @BotFather)"),
      chat_id: z.union([z.string().min(1).max(64), z.number().int()]).transform(String),
      api_base_url: Url.optional().openapi({
        description: "Defaults to https://api.telegram.org (a Bot API server of your own, or a test receiver).",
      }),
    })
    .strict(),
  email: z
    .object({
      api_key: z.string().min(8).max(500).openapi({ description: "A Resend API key (re_…)." }),
      from: z.string().min(3).max(320).openapi({ example: "Pier <alerts@example.com>" }),
      to: z.union([z.email(), z.array(z.email()).min(1).max(50)]).transform((v) => (Array.isArray(v) ? v : [v])),
      api_base_url: Url.optional().openapi({
        description: "Defaults to https://api.resend.com; any service speaking Resend's POST /emails.",
      }),
    })
    .strict(),
  webhook: z
    .object({
      url: Url,
      secret: z
        .string()
        .min(16, "must be at least 16 characters")
        .max(500)
        .openapi({ description: "Signs each body: X-Pier-Signature: sha256=<hex HMAC-SHA256 of the raw body>." }),
    })
    .strict(),
} as const satisfies Record<ChannelType, z.ZodType>;

export type ChannelConfig = { [T in ChannelType]: z.output<(typeof CHANNEL_CONFIGS)[T]> };
type AnyConfig = ChannelConfig[ChannelType];

const SECRET_FIELDS = new Set(["webhook_url", "bot_token", "api_key", "url", "secret"]);
const URL_FIELDS = ["webhook_url", "api_base_url", "url"] as const;

export const DEFAULT_TELEGRAM_API = "https://api.telegram.org";
export const DEFAULT_EMAIL_API = "https://api.resend.com";

/** `https://hooks.slack.com/…a1b2`, `…a1b2`: enough to recognize, never enough to use. */
export function maskSecret(value: string): string {
  const tail = value.length > 12 ? value.slice(-4) : "";
  try {
    const url = new URL(value);
    return `${url.origin}/…${tail}`;
  } catch {
    return `…${tail}`;
  }
}

export function maskConfig(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, SECRET_FIELDS.has(k) && typeof v === "string" ? maskSecret(v) : v]));
}

// ---- private addresses ----------------------------------------------------------------------------

function ipv4Private(host: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) ||
    a >= 224
  );
}

/**
 * True for loopback, private, link-local, CGNAT and unspecified addresses and for names that
 * resolve locally by convention (`localhost`, `*.local`, `*.internal`). Names are not resolved
 * (Workers have no DNS API), so a public name pointing at a private address is not caught here;
 * Cloudflare's own egress does not reach private networks anyway.
 */
export function isPrivateHost(hostname: string): boolean {
  const host = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal")) return true;
  if (ipv4Private(host)) return true;
  if (/^\d+$/.test(host) || /^0x[0-9a-f]+$/i.test(host)) return true; // 2130706433, 0x7f000001: integer IPv4 forms
  if (host.includes(":")) {
    if (host === "::" || host === "::1") return true;
    if (/^f[cd][0-9a-f]{2}:/.test(host) || /^fe[89ab][0-9a-f]:/.test(host)) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (mapped) return ipv4Private(mapped[1]!);
    if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(host)) return true; // mapped IPv4 in hex form: refuse rather than decode
  }
  return false;
}

export const privateUrlsAllowed = (env: Pick<Bindings, "PIER_ALLOW_PRIVATE_URLS">): boolean => env.PIER_ALLOW_PRIVATE_URLS === "true";

function checkUrls(env: Bindings, config: Record<string, unknown>): void {
  if (privateUrlsAllowed(env)) return;
  const errors = URL_FIELDS.filter(
    (field) => typeof config[field] === "string" && isPrivateHost(new URL(config[field] as string).hostname),
  ).map((field) => ({
    pointer: `/body/config/${field}`,
    detail:
      "points at a loopback or private address; Pier only delivers to public endpoints (set PIER_ALLOW_PRIVATE_URLS=true for local testing)",
  }));
  if (errors.length > 0) throw invalid(errors);
}

function parseConfig(type: ChannelType, raw: unknown): AnyConfig {
  const parsed = CHANNEL_CONFIGS[type].safeParse(raw);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((i) => ({ pointer: `/body/config${i.path.map((p) => `/${String(p)}`).join("")}`, detail: i.message })),
    );
  }
  return parsed.data;
}

// ---- CRUD -----------------------------------------------------------------------------------------

export interface ChannelView {
  row: ChannelRow;
  config: Record<string, unknown>;
}

async function openConfig(env: Bindings, row: ChannelRow): Promise<AnyConfig> {
  return JSON.parse(await decryptSecret(row.configSealed, env.ENCRYPTION_KEY)) as AnyConfig;
}

export async function maskedView(env: Bindings, row: ChannelRow): Promise<ChannelView> {
  return { row, config: maskConfig((await openConfig(env, row)) as Record<string, unknown>) };
}

export interface NewChannel {
  type: ChannelType;
  name: string;
  config: unknown;
  events?: string[] | null;
  enabled?: boolean;
}

export async function createChannel(db: Database, env: Bindings, actor: Admin, input: NewChannel): Promise<ChannelView> {
  const p = actor.principal;
  requireRole(p, "admin", "manage notification channels");
  const config = parseConfig(input.type, input.config);
  checkUrls(env, config);
  const now = nowIso();
  const row: ChannelRow = {
    id: newId("chn"),
    organizationId: p.organizationId,
    type: input.type,
    name: input.name,
    configSealed: await encryptSecret(JSON.stringify(config), env.ENCRYPTION_KEY),
    events: input.events ?? null,
    enabled: input.enabled ?? true,
    createdBy: p.userId,
    createdAt: now,
    updatedAt: now,
  };
  await db.batch([
    db.insert(notificationChannels).values(row),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "notification_channel.create",
        targetType: "notification_channel",
        targetId: row.id,
        metadata: { type: row.type, name: row.name },
      }),
    ),
  ]);
  return { row, config: maskConfig(config as Record<string, unknown>) };
}

export async function getChannel(db: Database, organizationId: string, id: string): Promise<ChannelRow> {
  const [row] = await db
    .select()
    .from(notificationChannels)
    .where(and(eq(notificationChannels.organizationId, organizationId), eq(notificationChannels.id, id)))
    .limit(1);
  if (!row) throw notFound(`Notification channel ${id}`);
  return row;
}

export async function listChannels(db: Database, organizationId: string, page: PageQuery) {
  const rows = await db
    .select()
    .from(notificationChannels)
    .where(
      and(
        eq(notificationChannels.organizationId, organizationId),
        cursorCondition(notificationChannels.createdAt, notificationChannels.id, decodeCursor(page.cursor)),
      ),
    )
    .orderBy(desc(notificationChannels.createdAt), desc(notificationChannels.id))
    .limit(page.limit + 1);
  return toPage(rows, page.limit);
}

export interface ChannelPatch {
  name?: string;
  /** Merged into the stored config: fields left out (or sent back masked) keep their values. */
  config?: Record<string, unknown>;
  events?: string[] | null;
  enabled?: boolean;
}

export async function updateChannel(db: Database, env: Bindings, actor: Admin, id: string, patch: ChannelPatch): Promise<ChannelView> {
  const p = actor.principal;
  requireRole(p, "admin", "manage notification channels");
  const row = await getChannel(db, p.organizationId, id);
  let sealed = row.configSealed;
  let config = await openConfig(env, row);
  if (patch.config) {
    const current = config as Record<string, unknown>;
    const masked = maskConfig(current);
    const merged = { ...current };
    for (const [k, v] of Object.entries(patch.config)) {
      // A masked value sent back unchanged (a form that round-trips what it read) keeps the secret.
      if (v === masked[k] && SECRET_FIELDS.has(k)) continue;
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    config = parseConfig(row.type, merged);
    checkUrls(env, config);
    sealed = await encryptSecret(JSON.stringify(config), env.ENCRYPTION_KEY);
  }
  const next: ChannelRow = {
    ...row,
    name: patch.name ?? row.name,
    configSealed: sealed,
    events: patch.events === undefined ? row.events : patch.events,
    enabled: patch.enabled ?? row.enabled,
    updatedAt: nowIso(),
  };
  const changed = Object.keys(patch).filter((k) => patch[k as keyof ChannelPatch] !== undefined);
  await db.batch([
    db
      .update(notificationChannels)
      .set({ name: next.name, configSealed: next.configSealed, events: next.events, enabled: next.enabled, updatedAt: next.updatedAt })
      .where(eq(notificationChannels.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "notification_channel.update",
        targetType: "notification_channel",
        targetId: id,
        metadata: { fields: changed },
      }),
    ),
  ]);
  return { row: next, config: maskConfig(config as Record<string, unknown>) };
}

export async function deleteChannel(db: Database, actor: Admin, id: string): Promise<void> {
  const p = actor.principal;
  requireRole(p, "admin", "manage notification channels");
  const row = await getChannel(db, p.organizationId, id);
  await db.batch([
    db.delete(notificationChannels).where(eq(notificationChannels.id, id)),
    db.insert(auditEvents).values(
      auditRow(actor, {
        organizationId: p.organizationId,
        action: "notification_channel.delete",
        targetType: "notification_channel",
        targetId: id,
        metadata: { type: row.type, name: row.name },
      }),
    ),
  ]);
}

// ---- deliveries -----------------------------------------------------------------------------------

const dispatcherOf = (env: Bindings, channelId: string) => env.CHANNEL_DISPATCHER.get(env.CHANNEL_DISPATCHER.idFromName(channelId));

/**
 * Logs one pending delivery per channel and wakes each channel's dispatcher, which sends it from
 * its alarm, off the request path. A slow or failing channel only ever delays itself.
 */
export async function enqueueDeliveries(
  db: Database,
  env: Bindings,
  channels: ChannelRow[],
  payload: DeliveryPayload,
): Promise<DeliveryRow[]> {
  if (channels.length === 0) return [];
  const now = nowIso();
  const rows: DeliveryRow[] = channels.map((ch) => ({
    id: newId("dlv"),
    organizationId: ch.organizationId,
    channelId: ch.id,
    notificationId: payload.notification_id,
    kind: payload.kind,
    payload,
    status: "pending",
    attempts: 0,
    lastStatusCode: null,
    lastError: null,
    nextAttemptAt: now,
    deliveredAt: null,
    createdAt: now,
    updatedAt: now,
  }));
  await db.insert(notificationDeliveries).values(rows);
  await Promise.all(channels.map((ch) => dispatcherOf(env, ch.id).wake(ch.id)));
  return rows;
}

/** Channels of the organization that deliver `kind`. */
export async function channelsFor(db: Database, organizationId: string, kind: string): Promise<ChannelRow[]> {
  const rows = await db
    .select()
    .from(notificationChannels)
    .where(and(eq(notificationChannels.organizationId, organizationId), eq(notificationChannels.enabled, true)));
  return rows.filter((ch) => ch.events === null || ch.events.includes(kind));
}

export async function sendTest(db: Database, env: Bindings, actor: Admin, id: string): Promise<DeliveryRow> {
  const p = actor.principal;
  requireRole(p, "admin", "test notification channels");
  const channel = await getChannel(db, p.organizationId, id);
  const [delivery] = await enqueueDeliveries(db, env, [channel], {
    notification_id: null,
    kind: "test",
    severity: "info",
    title: "Pier test notification",
    message: `This is a test of the ${channel.type} channel "${channel.name}". If you can read it, Pier can reach you here.`,
    target_type: "notification_channel",
    target_id: channel.id,
    data: null,
    created_at: nowIso(),
    organization_id: p.organizationId,
    test: true,
  });
  await db.insert(auditEvents).values(
    auditRow(actor, {
      organizationId: p.organizationId,
      action: "notification_channel.test",
      targetType: "notification_channel",
      targetId: id,
      metadata: { delivery_id: delivery!.id },
    }),
  );
  return delivery!;
}

export async function listDeliveries(db: Database, organizationId: string, channelId: string, page: PageQuery) {
  await getChannel(db, organizationId, channelId);
  const rows = await db
    .select()
    .from(notificationDeliveries)
    .where(
      and(
        eq(notificationDeliveries.channelId, channelId),
        cursorCondition(notificationDeliveries.createdAt, notificationDeliveries.id, decodeCursor(page.cursor)),
      ),
    )
    .orderBy(desc(notificationDeliveries.createdAt), desc(notificationDeliveries.id))
    .limit(page.limit + 1);
  return toPage(rows, page.limit);
}

// ---- sending (used by the ChannelDispatcher) -------------------------------------------------------

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  maxAttempts: number;
}

const int = (value: string | undefined, fallback: number) => {
  const n = Number.parseInt(value ?? "", 10);
  return Number.isFinite(n) && n > 0 ? n : fallback;
};

/** 30 s, 1 min, 2 min, … capped at 1 h, 8 attempts (about 2 hours), unless configured. */
export const retryPolicy = (env: Bindings): RetryPolicy => ({
  baseMs: int(env.PIER_NOTIFY_RETRY_BASE_MS, 30_000),
  maxMs: int(env.PIER_NOTIFY_RETRY_MAX_MS, 3_600_000),
  maxAttempts: int(env.PIER_NOTIFY_MAX_ATTEMPTS, 8),
});

/** Exponential backoff with ±20 % jitter, so retries of many deliveries do not arrive in step. */
export function backoffMs(policy: RetryPolicy, attempts: number, random = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp * (0.8 + 0.4 * random()));
}

const SEVERITY_COLOR: Record<Severity, number> = { info: 0x3b82f6, success: 0x22c55e, warning: 0xf59e0b, error: 0xef4444 };
const SEVERITY_EMOJI: Record<Severity, string> = { info: "ℹ️", success: "✅", warning: "⚠️", error: "🚨" };

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

async function hmacSha256Hex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(body)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The HTTP request each provider documents for one message. */
export async function buildRequest(
  type: ChannelType,
  config: AnyConfig,
  payload: DeliveryPayload,
  meta: { deliveryId: string; version: string },
): Promise<OutgoingRequest> {
  const json = { "content-type": "application/json", "user-agent": `Pier-Notifications/${meta.version}` };
  const line = `${SEVERITY_EMOJI[payload.severity]} ${payload.title}`;
  switch (type) {
    case "slack": {
      // https://api.slack.com/messaging/webhooks: `text` is the notification fallback, blocks the layout.
      const c = config as ChannelConfig["slack"];
      const body = {
        text: truncate(`${line}: ${payload.message}`, 3000),
        blocks: [
          { type: "header", text: { type: "plain_text", text: truncate(line, 150), emoji: true } },
          { type: "section", text: { type: "mrkdwn", text: truncate(payload.message, 3000) } },
          { type: "context", elements: [{ type: "mrkdwn", text: `${payload.kind} · ${payload.created_at}` }] },
        ],
      };
      return { url: c.webhook_url, headers: json, body: JSON.stringify(body) };
    }
    case "discord": {
      // https://discord.com/developers/docs/resources/webhook#execute-webhook: embeds (title ≤ 256, description ≤ 4096).
      const c = config as ChannelConfig["discord"];
      const body = {
        username: "Pier",
        embeds: [
          {
            title: truncate(line, 256),
            description: truncate(payload.message, 4096),
            color: SEVERITY_COLOR[payload.severity],
            timestamp: payload.created_at,
            footer: { text: payload.kind },
          },
        ],
        allowed_mentions: { parse: [] },
      };
      return { url: c.webhook_url, headers: json, body: JSON.stringify(body) };
    }
    case "telegram": {
      // https://core.telegram.org/bots/api#sendmessage: plain text (no parse_mode), so nothing needs escaping.
      const c = config as ChannelConfig["telegram"];
      const base = (c.api_base_url ?? DEFAULT_TELEGRAM_API).replace(/\/+$/, "");
      const body = { chat_id: c.chat_id, text: truncate(`${line}\n\n${payload.message}`, 4096), disable_web_page_preview: true };
      return { url: `${base}/bot${c.bot_token}/sendMessage`, headers: json, body: JSON.stringify(body) };
    }
    case "email": {
      // https://resend.com/docs/api-reference/emails/send-email
      const c = config as ChannelConfig["email"];
      const base = (c.api_base_url ?? DEFAULT_EMAIL_API).replace(/\/+$/, "");
      const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
      const body = {
        from: c.from,
        to: c.to,
        subject: truncate(`[Pier] ${payload.title}`, 250),
        text: `${payload.title}\n\n${payload.message}\n\n${payload.kind} · ${payload.created_at}`,
        html: `<h2>${escapeHtml(payload.title)}</h2><p>${escapeHtml(payload.message).replaceAll("\n", "<br>")}</p><p style="color:#666">${escapeHtml(payload.kind)} · ${escapeHtml(payload.created_at)}</p>`,
      };
      // The delivery id as idempotency key: a retry after a lost answer does not send twice.
      return {
        url: `${base}/emails`,
        headers: { ...json, authorization: `Bearer ${c.api_key}`, "idempotency-key": meta.deliveryId },
        body: JSON.stringify(body),
      };
    }
    case "webhook": {
      const c = config as ChannelConfig["webhook"];
      const body = JSON.stringify({ id: meta.deliveryId, event: payload.kind, ...payload });
      return {
        url: c.url,
        headers: {
          ...json,
          "x-pier-event": payload.kind,
          "x-pier-delivery": meta.deliveryId,
          "x-pier-signature": `sha256=${await hmacSha256Hex(c.secret, body)}`,
        },
        body,
      };
    }
  }
}

export type AttemptOutcome =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string; retryable: boolean; retryAfterMs?: number };

const SEND_TIMEOUT_MS = 10_000;

/** One attempt: the request, a 10 s limit, and what to do next. */
export async function attemptDelivery(env: Bindings, channel: ChannelRow, delivery: DeliveryRow): Promise<AttemptOutcome> {
  let request: OutgoingRequest;
  try {
    const config = await openConfig(env, channel);
    request = await buildRequest(channel.type, config, delivery.payload, { deliveryId: delivery.id, version: env.PIER_VERSION });
    if (!privateUrlsAllowed(env) && isPrivateHost(new URL(request.url).hostname)) {
      return { ok: false, status: null, error: "the channel's URL points at a private address", retryable: false };
    }
  } catch (err) {
    return { ok: false, status: null, error: `could not prepare the request: ${String(err)}`, retryable: false };
  }
  try {
    const res = await fetch(request.url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      redirect: "manual",
    });
    const text = await res.text().catch(() => "");
    if (res.ok) return { ok: true, status: res.status };
    const retryAfter = Number(res.headers.get("retry-after"));
    // 4xx means the provider refused this request as it is (a revoked webhook, a bad chat id):
    // repeating it cannot help. 408 and 429 are the exceptions.
    const retryable = res.status >= 500 || res.status === 408 || res.status === 429;
    return {
      ok: false,
      status: res.status,
      error: `HTTP ${res.status}${text ? `: ${truncate(text.replace(/\s+/g, " "), 300)}` : ""}`,
      retryable,
      ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
    };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return {
      ok: false,
      status: null,
      error: timedOut ? `no answer within ${SEND_TIMEOUT_MS / 1000} s` : `network error: ${String(err)}`,
      retryable: true,
    };
  }
}

/** Pending deliveries of a channel that are due, oldest first. */
export async function dueDeliveries(db: Database, channelId: string, now: string, limit = 25): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(notificationDeliveries)
    .where(
      and(
        eq(notificationDeliveries.channelId, channelId),
        eq(notificationDeliveries.status, "pending"),
        or(isNull(notificationDeliveries.nextAttemptAt), lte(notificationDeliveries.nextAttemptAt, now)),
      ),
    )
    .orderBy(asc(notificationDeliveries.createdAt), asc(notificationDeliveries.id))
    .limit(limit);
}

/** When the channel's next pending delivery is due, if any. */
export async function nextDueAt(db: Database, channelId: string): Promise<string | null> {
  const [row] = await db
    .select({ at: min(notificationDeliveries.nextAttemptAt) })
    .from(notificationDeliveries)
    .where(and(eq(notificationDeliveries.channelId, channelId), eq(notificationDeliveries.status, "pending")));
  return row?.at ?? null;
}

export async function recordAttempt(db: Database, delivery: DeliveryRow, outcome: AttemptOutcome, policy: RetryPolicy): Promise<void> {
  const now = Date.now();
  const attempts = delivery.attempts + 1;
  const base = { attempts, lastStatusCode: outcome.status, updatedAt: new Date(now).toISOString() };
  if (outcome.ok) {
    await db
      .update(notificationDeliveries)
      .set({ ...base, status: "succeeded", lastError: null, nextAttemptAt: null, deliveredAt: base.updatedAt })
      .where(eq(notificationDeliveries.id, delivery.id));
    return;
  }
  const giveUp = !outcome.retryable || attempts >= policy.maxAttempts;
  const wait = Math.max(backoffMs(policy, attempts), Math.min(outcome.retryAfterMs ?? 0, policy.maxMs));
  await db
    .update(notificationDeliveries)
    .set({
      ...base,
      status: giveUp ? "failed" : "pending",
      lastError: outcome.error,
      nextAttemptAt: giveUp ? null : new Date(now + wait).toISOString(),
    })
    .where(eq(notificationDeliveries.id, delivery.id));
}

export async function channelById(db: Database, id: string): Promise<ChannelRow | undefined> {
  const [row] = await db.select().from(notificationChannels).where(eq(notificationChannels.id, id)).limit(1);
  return row;
}

/** The delivery log is kept 30 days. */
export const DELIVERY_RETENTION_MS = 30 * 24 * 3600_000;

export async function pruneDeliveries(db: Database, now = Date.now()): Promise<void> {
  await db
    .delete(notificationDeliveries)
    .where(
      and(
        lte(notificationDeliveries.createdAt, new Date(now - DELIVERY_RETENTION_MS).toISOString()),
        or(eq(notificationDeliveries.status, "succeeded"), eq(notificationDeliveries.status, "failed")),
      ),
    );
}
