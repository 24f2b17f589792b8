// Following a deployment's output live: the DeployQueue's followers, relayed as SSE by the one hub
// subscription (hub-subscription.ts), with the stored pieces as replay and backstop.
import type { SSEStreamingApi } from "hono/streaming";
import type { Database } from "../db/client.ts";
import type { FollowMessage } from "../durable/deploy-queue.ts";
import type { Bindings } from "../env.ts";
import { type DeploymentRow, getDeployment, isFinished, lastLogSeq, readLogs } from "./deployments.ts";
import { relayHubAsSse, subscribeHub } from "./hub-subscription.ts";

/** One piece of output as the log stream shows it. */
export const toPiece = (row: { seq: number; stream: string; data: string; createdAt?: string; at?: string }) => ({
  seq: row.seq,
  stream: row.stream as "stdout" | "stderr" | "system",
  text: row.data,
  at: row.createdAt ?? row.at ?? "",
});

/** While following, the database is read this often in case the queue's `end` was missed. */
const POLL_MS = 5_000;

/**
 * Whether a follower reconnecting with `lastEventId` has seen everything: the deployment is over
 * and nothing is stored after that id. EventSource is then answered 204, which is the one answer
 * that makes it stop reconnecting (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 */
export async function followerIsDone(db: Database, dep: DeploymentRow, lastEventId: number | undefined): Promise<boolean> {
  if (lastEventId === undefined || !isFinished(dep.status)) return false;
  return lastEventId >= (await lastLogSeq(db, dep.id));
}

/** Subscribes to the deployment's queue unless it is over (then there is nothing live to follow). */
export async function subscribeDeployment(env: Bindings, dep: DeploymentRow): Promise<WebSocket | null> {
  if (isFinished(dep.status)) return null;
  return subscribeHub(env.DEPLOY_QUEUE.getByName(dep.applicationId), { "x-pier-deployment": dep.id }, "deployment queue");
}

/**
 * Live output on a subscription made first: a `: ready` comment, what is stored after `after`,
 * then live pieces (skipping those sent), and one `end` event when the deployment ends. The end
 * comes from the queue, or from the database if it ended before the subscription or the queue's
 * message was lost (checked after the replay, and every 5 s).
 */
export async function followLogs(
  sse: SSEStreamingApi,
  socket: WebSocket | null,
  db: Database,
  organizationId: string,
  dep: DeploymentRow,
  after: number,
): Promise<void> {
  let last = after;
  const emit = async (pieces: ReturnType<typeof toPiece>[]) => {
    for (const piece of pieces) {
      if (piece.seq <= last) continue;
      last = piece.seq;
      await sse.writeSSE({ event: "log", id: String(piece.seq), data: JSON.stringify(piece) });
    }
  };
  const drainStored = async () => {
    for (;;) {
      const rows = await readLogs(db, dep.id, last, 1000);
      if (rows.length === 0) return;
      await emit(rows.map(toPiece));
    }
  };
  const finish = async (end: { status: string; error: string | null }) => {
    await drainStored();
    // The id is the last piece's, so that EventSource reconnects with it and is told 204.
    await sse.writeSSE({ event: "end", ...(last >= 0 ? { id: String(last) } : {}), data: JSON.stringify(end) });
  };
  const endIfFinished = async (stream: { end(): void }) => {
    const current = await getDeployment(db, { organizationId }, dep.id);
    if (!isFinished(current.status)) return;
    await finish({ status: current.status, error: current.error });
    stream.end();
  };

  await relayHubAsSse<FollowMessage>(sse, socket, {
    replay: async (stream) => {
      await drainStored();
      await endIfFinished(stream);
    },
    onMessage: async (message, stream) => {
      if (message.type === "logs") return emit(message.logs.map(toPiece));
      await finish({ status: message.status, error: message.error });
      stream.end();
    },
    // The queue closes its followers after `end`; a close without it (the object restarted) is
    // settled by the poll.
    onHubClosed: () => undefined,
    poll: { everyMs: POLL_MS, run: endIfFinished },
  });
}
