import { DurableObject } from "cloudflare:workers";
import { createDatabase } from "../db/client.ts";
import type { Bindings } from "../env.ts";
import { attemptDelivery, channelById, dueDeliveries, nextDueAt, recordAttempt, retryPolicy } from "../services/channels/index.ts";

/**
 * One per notification channel: sends that channel's deliveries from its alarm, one at a time in
 * order, retrying with exponential backoff. The delivery log in the database is the queue, so a
 * restart loses nothing; the alarm is only the wake-up, and alarms themselves are retried by the
 * runtime if this handler throws.
 *
 * One object per channel, not per organization, so a channel that times out or answers 500 never
 * holds up the organization's other channels.
 */
export class ChannelDispatcher extends DurableObject<Bindings> {
  /** Called after deliveries were logged: send them soon. */
  async wake(): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > Date.now()) await this.ctx.storage.setAlarm(Date.now());
  }

  override async alarm(): Promise<void> {
    // Named by its channel's id (getByName), so it knows its channel after any restart.
    const channelId = this.ctx.id.name;
    if (!channelId) return;
    const db = createDatabase(this.env);
    const channel = await channelById(db, channelId);
    if (!channel) {
      // Deleted: its deliveries went with it (cascade).
      await this.ctx.storage.deleteAll();
      return;
    }
    const policy = retryPolicy(this.env);
    for (;;) {
      const due = await dueDeliveries(db, channelId, new Date().toISOString());
      if (due.length === 0) break;
      for (const delivery of due) {
        const outcome = channel.enabled
          ? await attemptDelivery(this.env, channel, delivery)
          : ({ ok: false, status: null, error: "the channel is disabled", retryable: false } as const);
        await recordAttempt(db, delivery, outcome, policy);
        if (!outcome.ok) {
          console.warn(
            JSON.stringify({
              level: "warn",
              msg: "notification delivery failed",
              channel: channelId,
              delivery: delivery.id,
              attempt: delivery.attempts + 1,
              error: outcome.error.slice(0, 300),
            }),
          );
        }
      }
    }
    const next = await nextDueAt(db, channelId);
    if (next) await this.ctx.storage.setAlarm(Math.max(Date.now(), Date.parse(next)));
  }
}
