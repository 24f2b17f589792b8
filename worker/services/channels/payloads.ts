// The HTTP request each provider documents for one message.
import type { ChannelType, DeliveryPayload, Severity } from "../../db/schema.ts";
import { type AnyConfig, type ChannelConfig, DEFAULT_EMAIL_API, DEFAULT_TELEGRAM_API } from "./config.ts";

const SEVERITY_COLOR: Record<Severity, number> = { info: 0x3b82f6, success: 0x22c55e, warning: 0xf59e0b, error: 0xef4444 };
const SEVERITY_EMOJI: Record<Severity, string> = { info: "ℹ️", success: "✅", warning: "⚠️", error: "🚨" };

export const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

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
