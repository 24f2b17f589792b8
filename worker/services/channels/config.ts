// A channel's configuration: one zod schema per provider, masking for read-back, and sealing at rest.
import { z } from "@hono/zod-openapi";
import type { ChannelType, notificationChannels, notificationDeliveries } from "../../db/schema.ts";
import type { Bindings } from "../../env.ts";
import { invalid } from "../../errors.ts";
import { decryptSecret } from "../../lib/crypto.ts";

export type ChannelRow = typeof notificationChannels.$inferSelect;
export type DeliveryRow = typeof notificationDeliveries.$inferSelect;

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
export type AnyConfig = ChannelConfig[ChannelType];

export const SECRET_FIELDS = new Set(["webhook_url", "bot_token", "api_key", "url", "secret"]);
export const URL_FIELDS = ["webhook_url", "api_base_url", "url"] as const;

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

export function parseConfig(type: ChannelType, raw: unknown): AnyConfig {
  const parsed = CHANNEL_CONFIGS[type].safeParse(raw);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((i) => ({ pointer: `/body/config${i.path.map((p) => `/${String(p)}`).join("")}`, detail: i.message })),
    );
  }
  return parsed.data;
}

/** The stored config, decrypted. */
export async function openConfig(env: Bindings, row: ChannelRow): Promise<AnyConfig> {
  return JSON.parse(await decryptSecret(row.configSealed, env.ENCRYPTION_KEY)) as AnyConfig;
}
