// What each kind of notification channel asks for, and how the form's strings become the API's
// config: the one place that knows the kinds' shapes (schema NewNotificationChannel).
import type { Schemas } from "../api/client.ts";

export type ChannelKind = Schemas["NotificationChannel"]["type"];
export type NewChannel = Schemas["NewNotificationChannel"];

export interface ChannelField {
  key: string;
  label: string;
  secret?: boolean;
  optional?: boolean;
  hint?: string;
}

export const CHANNEL_KINDS: readonly { kind: ChannelKind; label: string; fields: readonly ChannelField[] }[] = [
  {
    kind: "webhook",
    label: "Webhook",
    fields: [
      { key: "url", label: "URL" },
      { key: "secret", label: "Signing secret", secret: true, hint: "Signs each body: X-Pier-Signature: sha256=<HMAC>" },
    ],
  },
  { kind: "slack", label: "Slack", fields: [{ key: "webhook_url", label: "Incoming-webhook URL", secret: true }] },
  { kind: "discord", label: "Discord", fields: [{ key: "webhook_url", label: "Channel webhook URL", secret: true }] },
  {
    kind: "telegram",
    label: "Telegram",
    fields: [
      { key: "bot_token", label: "Bot token", secret: true },
      { key: "chat_id", label: "Chat id" },
      { key: "api_base_url", label: "Bot API server", optional: true, hint: "Defaults to https://api.telegram.org" },
    ],
  },
  {
    kind: "email",
    label: "Email (Resend)",
    fields: [
      { key: "api_key", label: "API key", secret: true },
      { key: "from", label: "From", hint: "Pier <alerts@example.com>" },
      { key: "to", label: "To", hint: "Comma-separated addresses" },
      { key: "api_base_url", label: "API server", optional: true, hint: "Defaults to https://api.resend.com" },
    ],
  },
];

export const fieldsOf = (kind: ChannelKind): readonly ChannelField[] => CHANNEL_KINDS.find((k) => k.kind === kind)?.fields ?? [];

/**
 * The request body for a new channel: values trimmed, optional fields left out when empty (so the
 * API's defaults apply), several email recipients sent as a list. Required fields left empty are
 * sent as typed: the API's validation answers them with its own message.
 */
export function channelBody(kind: ChannelKind, name: string, values: Record<string, string>): NewChannel {
  const config: Record<string, unknown> = {};
  for (const f of fieldsOf(kind)) {
    const v = (values[f.key] ?? "").trim();
    if (f.optional && v === "") continue;
    config[f.key] = v;
  }
  if (kind === "email" && typeof config.to === "string") {
    const to = config.to
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    config.to = to.length === 1 ? to[0] : to;
  }
  return { type: kind, name: name.trim(), config } as NewChannel;
}

/** A config value as the edit form shows it: lists (email recipients) comma-joined. */
export const formValue = (v: unknown): string => (Array.isArray(v) ? v.join(", ") : v == null ? "" : String(v));

/** The form's starting values for an existing channel, as the API read them (secrets masked). */
export function channelFormValues(kind: ChannelKind, config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(fieldsOf(kind).map((f) => [f.key, formValue(config[f.key])]));
}

/**
 * The config fields to PATCH: only those the user changed. A field left as it was read (for a
 * secret, its mask) is not sent, so the API keeps the stored value; the API would also keep a
 * mask sent back, but sending less says more plainly what changed.
 */
export function channelConfigPatch(
  kind: ChannelKind,
  read: Record<string, unknown>,
  values: Record<string, string>,
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const f of fieldsOf(kind)) {
    const before = formValue(read[f.key]);
    const now = (values[f.key] ?? before).trim();
    if (now === before.trim()) continue;
    if (f.optional && now === "") {
      patch[f.key] = null;
      continue;
    }
    patch[f.key] = now;
  }
  if (kind === "email" && typeof patch.to === "string") {
    const to = patch.to
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    patch.to = to.length === 1 ? to[0] : to;
  }
  return patch;
}
