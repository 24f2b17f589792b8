// One delivery attempt over HTTP, and what it means for the next one.
import type { Bindings } from "../../env.ts";
import { type ChannelRow, type DeliveryRow, openConfig } from "./config.ts";
import { buildRequest, type OutgoingRequest, truncate } from "./payloads.ts";
import { isPrivateHost, privateUrlsAllowed } from "./private-hosts.ts";

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
