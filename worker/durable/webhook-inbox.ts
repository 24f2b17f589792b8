import { DurableObject } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { createDatabase } from "../db/client.ts";
import { errorLogFields } from "../db/errors.ts";
import { applications, webhookDeliveries } from "../db/schema.ts";
import type { Bindings } from "../env.ts";
import { decryptSecret } from "../lib/crypto.ts";
import { newId } from "../lib/ids.ts";
import { applicationByWebhookTokenHash, type ApplicationRow } from "../services/applications.ts";
import {
  decideDelivery,
  type DeliveryInput,
  type DeliveryResult,
  handleDelivery,
  RECEIVED,
  readDelivery,
  NO_PROVIDER,
} from "../services/webhooks.ts";
import type { RateLimitDecision } from "./rate-limiter.ts";

/** How long the application and its secret are trusted without reading them again (a backstop to `forget`). */
const CACHE_MS = 60_000;
/** A recording run that failed (the database) is tried again after this long. */
const RETRY_MS = 10_000;
/** Delivery ids are remembered this long for the answer to a repeated one (the database's unique index is the authority). */
const SEEN_MS = 7 * 24 * 3600_000;
const WINDOW_MS = 60_000;
const BATCH = 50;

interface Target {
  app: Pick<ApplicationRow, "id" | "organizationId" | "sourceType" | "gitBranch">;
  secret: string;
  until: number;
}

export interface InboxRequest {
  headers: [string, string][];
  body: Uint8Array;
  /** Deliveries a minute for this application. */
  limit: number;
}

export type InboxAnswer =
  | { kind: "unknown" }
  | { kind: "limited"; decision: RateLimitDecision }
  | { kind: "received"; decision: RateLimitDecision; result: DeliveryResult; noProvider: boolean };

/**
 * One per webhook URL (named by the hash of its token): the acknowledgement path of push webhooks
 * without the database. It keeps the application and its secret in memory (read once, then
 * trusted until `forget` or a minute passes), counts the per-application limit, verifies the
 * signature, answers a repeated delivery id from its own memory, and writes the delivery to its
 * own storage before it answers (the output gate holds the answer until that write is durable).
 * Its alarm then records each delivery in the database and queues deployments (handleDelivery),
 * in arrival order; a delivery leaves this storage only once it is recorded, so a crash or a
 * database outage after the answer loses nothing, and a record half done is redone.
 */
export class WebhookInbox extends DurableObject<Bindings> {
  private target: Target | null = null;
  // Random, not a counter: a read that raced with `forget` must not be cached after it.
  private generation = crypto.randomUUID();
  private windowStart = 0;
  private count = 0;
  private lastReceived = 0;

  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(`CREATE TABLE IF NOT EXISTS pending (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      row_id TEXT NOT NULL,
      created_at TEXT NOT NULL,
      application_id TEXT NOT NULL,
      input TEXT NOT NULL
    )`);
    sql.exec(`CREATE TABLE IF NOT EXISTS seen (
      key TEXT PRIMARY KEY,
      row_id TEXT NOT NULL,
      deployment_id TEXT,
      at INTEGER NOT NULL
    )`);
    sql.exec("CREATE INDEX IF NOT EXISTS seen_at ON seen (at)");
    // Deliveries left from before a restart are recorded even if nothing else arrives.
    void ctx.blockConcurrencyWhile(async () => {
      if (this.pendingCount() > 0 && (await ctx.storage.getAlarm()) === null) await ctx.storage.setAlarm(Date.now());
    });
  }

  // ---- RPC --------------------------------------------------------------------------------

  async receive(request: InboxRequest): Promise<InboxAnswer> {
    const target = await this.resolve();
    if (!target) return { kind: "unknown" };
    const decision = this.hit(request.limit);
    if (!decision.allowed) return { kind: "limited", decision };
    const read = await readDelivery(new Headers(request.headers), request.body, target.secret, "webhook");
    const input: DeliveryInput = read ?? NO_PROVIDER;
    const at = this.nextReceived();
    const rowId = newId("whd");
    const result = this.answer(target, input, rowId);
    this.ctx.storage.sql.exec(
      "INSERT INTO pending (row_id, created_at, application_id, input) VALUES (?, ?, ?, ?)",
      rowId,
      at,
      target.app.id,
      JSON.stringify(input),
    );
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
    return { kind: "received", decision, result, noProvider: read === null };
  }

  /** The application or its secret changed, or it was deleted: read it again before the next delivery. */
  forget(): void {
    this.target = null;
    this.generation = crypto.randomUUID();
  }

  /** Deliveries answered but not yet recorded in the database. */
  pendingCount(): number {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM pending").one().n;
  }

  // ---- recording ----------------------------------------------------------------------------

  override async alarm(): Promise<void> {
    try {
      await this.record();
      this.ctx.storage.sql.exec("DELETE FROM seen WHERE at < ?", Date.now() - SEEN_MS);
    } catch (error) {
      // Kept in storage: tried again, in the same order, until the database takes them.
      console.error(JSON.stringify({ level: "error", msg: "recording webhook deliveries failed", ...errorLogFields(error) }));
      await this.ctx.storage.setAlarm(Date.now() + RETRY_MS);
    }
  }

  private async record(): Promise<void> {
    const sql = this.ctx.storage.sql;
    const db = createDatabase(this.env);
    for (;;) {
      const batch = sql
        .exec<{ seq: number; row_id: string; created_at: string; application_id: string; input: string }>(
          "SELECT seq, row_id, created_at, application_id, input FROM pending ORDER BY seq LIMIT ?",
          BATCH,
        )
        .toArray();
      if (batch.length === 0) return;
      const appIds = [...new Set(batch.map((p) => p.application_id))];
      const apps = new Map((await db.select().from(applications).where(inArray(applications.id, appIds))).map((a) => [a.id, a] as const));
      // Rows a run that died halfway already wrote: done unless still waiting for their deployment.
      const written = new Map(
        (
          await db
            .select({ id: webhookDeliveries.id, detail: webhookDeliveries.detail })
            .from(webhookDeliveries)
            .where(
              inArray(
                webhookDeliveries.id,
                batch.map((p) => p.row_id),
              ),
            )
        ).map((r) => [r.id, r.detail] as const),
      );
      for (const pending of batch) {
        const app = apps.get(pending.application_id);
        const done = () => sql.exec("DELETE FROM pending WHERE seq = ?", pending.seq);
        // A deleted application's deliveries went with it (cascade): nothing to record.
        if (!app) {
          done();
          continue;
        }
        if (written.has(pending.row_id)) {
          if (written.get(pending.row_id) !== RECEIVED) {
            done();
            continue;
          }
          // Its deployment may not have been queued: redone (a commit already waiting coalesces).
          await db.delete(webhookDeliveries).where(eq(webhookDeliveries.id, pending.row_id));
        }
        const input = JSON.parse(pending.input) as DeliveryInput;
        let result: DeliveryResult | undefined;
        try {
          result = await handleDelivery(db, this.env, app, input, { rowId: pending.row_id, createdAt: pending.created_at });
        } catch (error) {
          // Queueing the deployment failed and handleDelivery recorded that ("failed"); anything
          // else (the database) leaves the delivery here for the next run.
          const [row] = await db
            .select({ detail: webhookDeliveries.detail })
            .from(webhookDeliveries)
            .where(eq(webhookDeliveries.id, pending.row_id));
          if (!row || row.detail === RECEIVED) throw error;
          console.warn(
            JSON.stringify({ level: "warn", msg: "webhook deployment not queued", delivery: pending.row_id, ...errorLogFields(error) }),
          );
        }
        if (result?.deploymentId) sql.exec("UPDATE seen SET deployment_id = ? WHERE row_id = ?", result.deploymentId, pending.row_id);
        // A redelivery of a push that could not be queued deploys (handleDelivery released its id).
        if (!result || result.outcome === "failed") sql.exec("DELETE FROM seen WHERE row_id = ?", pending.row_id);
        done();
      }
    }
  }

  // ---- the answer ----------------------------------------------------------------------------

  /** What the delivery will come to, as far as this object can tell without the database. */
  private answer(target: Target, input: DeliveryInput, rowId: string): DeliveryResult {
    const of = (
      status: DeliveryResult["status"],
      outcome: DeliveryResult["outcome"],
      detail: string,
      deploymentId: string | null = null,
    ) => ({
      status,
      outcome,
      detail,
      deliveryRowId: rowId,
      deploymentId,
    });
    if (input.problem || !input.verified) {
      const problem = input.problem ?? { outcome: "rejected" as const, detail: "the signature is missing or wrong" };
      return of(problem.outcome === "rejected" ? 401 : 400, problem.outcome, problem.detail);
    }
    if (input.deliveryId) {
      const key = `${input.provider}:${input.deliveryId}`;
      const seen = this.ctx.storage.sql
        .exec<{ row_id: string; deployment_id: string | null }>("SELECT row_id, deployment_id FROM seen WHERE key = ?", key)
        .toArray()[0];
      if (seen)
        return of(
          200,
          "duplicate",
          `delivery ${input.deliveryId} was already received (${seen.row_id}); not deployed again`,
          seen.deployment_id,
        );
      this.ctx.storage.sql.exec("INSERT INTO seen (key, row_id, at) VALUES (?, ?, ?)", key, rowId, Date.now());
    }
    const decision = decideDelivery(target.app, input);
    if (!decision.deploy) return of(200, decision.outcome, decision.detail);
    return of(
      202,
      "queued",
      `the deployment is being queued; its id will be in this delivery's record (GET /api/v1/applications/${target.app.id}/webhook-deliveries)`,
    );
  }

  // ---- cache, limit, clock -------------------------------------------------------------------

  private async resolve(): Promise<Target | null> {
    if (this.target && this.target.until > Date.now()) return this.target;
    const tokenHash = this.ctx.id.name;
    if (!tokenHash) return null;
    const generation = this.generation;
    const row = await applicationByWebhookTokenHash(createDatabase(this.env), tokenHash);
    if (!row) return null;
    const target: Target = {
      app: { id: row.id, organizationId: row.organizationId, sourceType: row.sourceType, gitBranch: row.gitBranch },
      secret: await decryptSecret(row.webhookSecretEncrypted, this.env.ENCRYPTION_KEY),
      until: Date.now() + CACHE_MS,
    };
    if (generation === this.generation) this.target = target;
    return target;
  }

  private hit(limit: number): RateLimitDecision {
    const now = Date.now();
    if (now - this.windowStart >= WINDOW_MS) {
      this.windowStart = now;
      this.count = 0;
    }
    const allowed = this.count < limit;
    if (allowed) this.count++;
    return { allowed, limit, remaining: Math.max(0, limit - this.count), resetAt: this.windowStart + WINDOW_MS };
  }

  /** Strictly increasing receipt times, so the list shows deliveries in the order they arrived. */
  private nextReceived(): string {
    this.lastReceived = Math.max(Date.now(), this.lastReceived + 1);
    return new Date(this.lastReceived).toISOString();
  }
}
