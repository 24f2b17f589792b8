import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteSelect } from "drizzle-orm/sqlite-core";
import { z } from "@hono/zod-openapi";
import { ApiError } from "../errors.ts";
import { fromBase64Url, toBase64Url } from "./crypto.ts";

// Keyset pagination over (created_at, id), newest first. The cursor is opaque to clients: it is
// the last row's sort key, base64url-encoded, so pages stay stable while rows are inserted.

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).openapi({ description: "Page size (1–200)." }),
  cursor: z.string().max(200).optional().openapi({ description: "`next_cursor` from the previous page." }),
});
export type PageQuery = z.infer<typeof PageQuery>;

interface Cursor {
  createdAt: string;
  id: string;
}

export function decodeCursor(cursor: string | undefined): Cursor | undefined {
  if (!cursor) return undefined;
  try {
    const [createdAt, id] = JSON.parse(new TextDecoder().decode(fromBase64Url(cursor))) as [string, string];
    if (typeof createdAt === "string" && typeof id === "string") return { createdAt, id };
  } catch {
    // fall through
  }
  throw new ApiError(400, "The `cursor` query parameter is not one this API issued: pass `next_cursor` from the previous page unchanged.");
}

export function cursorCondition(created: SQLiteColumn, id: SQLiteColumn, cursor: Cursor | undefined): SQL | undefined {
  if (!cursor) return undefined;
  return or(lt(created, cursor.createdAt), and(eq(created, cursor.createdAt), lt(id, cursor.id)));
}

/** Takes `limit + 1` rows and returns the page with the cursor of the next one, if any. */
export function toPage<T extends { createdAt: string; id: string }>(rows: T[], limit: number): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor = rows.length > limit && last ? toBase64Url(new TextEncoder().encode(JSON.stringify([last.createdAt, last.id]))) : null;
  return { items, nextCursor };
}

/** The sort key of a paged table (or, for a join, of the table whose rows are paged). */
export interface PageKey {
  createdAt: SQLiteColumn;
  id: SQLiteColumn;
}

/**
 * One newest-first page of a `$dynamic()` select: the rows matching every `where` condition
 * (undefined ones are skipped) that sort after the page's cursor.
 *   newestFirstPage(db.select().from(hosts).$dynamic(), hosts, page, eq(hosts.organizationId, org))
 */
export async function newestFirstPage<Q extends SQLiteSelect>(
  query: Q,
  key: PageKey,
  page: PageQuery,
  ...where: (SQL | undefined)[]
): Promise<{ items: Awaited<Q>; nextCursor: string | null }> {
  const rows = await query
    .where(and(...where, cursorCondition(key.createdAt, key.id, decodeCursor(page.cursor))))
    .orderBy(desc(key.createdAt), desc(key.id))
    .limit(page.limit + 1);
  const { items, nextCursor } = toPage(rows as { createdAt: string; id: string }[], page.limit);
  return { items: items as Awaited<Q>, nextCursor };
}
