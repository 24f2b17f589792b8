// Failed queries against the real libSQL server: the unique index is read from the error, and
// nothing said about the error carries the query's parameter values.
import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { newOwner, unique } from "../testing.ts";
import { createDatabase } from "./client.ts";
import { errorLogFields, errorText, isUniqueViolation, uniqueViolation } from "./errors.ts";
import { projects } from "./schema.ts";

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error("the query was expected to fail");
}

describe("database errors", () => {
  it("name the unique index a write ran into, and never the values", async () => {
    const owner = await newOwner();
    const db = createDatabase(env);
    const secret = `hunter2-${unique()}`;
    const row = (id: string) => ({
      id,
      organizationId: owner.organizationId,
      name: "same",
      description: secret,
      createdAt: "2026-01-01T00:00:00Z",
      updatedAt: "2026-01-01T00:00:00Z",
    });
    await db.insert(projects).values(row(`prj_${unique()}`));
    const err = await failure(() => db.insert(projects).values(row(`prj_${unique()}`)));

    expect(uniqueViolation(err)).toEqual({ table: "projects", columns: ["organization_id", "name"] });
    expect(isUniqueViolation(err, "projects", "name")).toBe(true);
    expect(isUniqueViolation(err, "projects", "id")).toBe(false);
    expect(isUniqueViolation(err, "hosts")).toBe(false);
    // The raw error does carry the values: that is what must not reach a log.
    expect(String(err)).toContain(secret);
    expect(errorText(err)).toMatch(/^Failed query: insert into "projects" .*UNIQUE constraint failed: projects\.organization_id/);
    const fields = errorLogFields(err);
    expect(fields.stack).toMatch(/\n {4}at /);
    expect(JSON.stringify(fields)).not.toContain(secret);
    expect(JSON.stringify(fields)).not.toContain(owner.organizationId);
  });

  it("are no unique violation when only the values spell one", async () => {
    const owner = await newOwner();
    const db = createDatabase(env);
    const spelled = "UNIQUE constraint failed: projects.name";
    // NOT NULL fails; the values, shown in drizzle's message, look like a unique violation.
    const err = await failure(() =>
      db.run(
        sql`insert into projects (id, organization_id, name, description, created_at, updated_at) values (${`prj_${unique()}`}, ${owner.organizationId}, null, ${spelled}, 'x', 'x')`,
      ),
    );
    expect(errorText(err)).toMatch(/NOT NULL constraint failed: projects\.name/);
    expect(uniqueViolation(err)).toBeUndefined();
    expect(errorText(err)).not.toContain(spelled);
  });

  it("describe other errors by their message", () => {
    expect(errorText(new Error("plain"))).toBe("plain");
    expect(errorLogFields(new TypeError("bad")).error).toBe("TypeError: bad");
    expect(errorText("a string")).toBe("a string");
    expect(uniqueViolation(new Error("nothing"))).toBeUndefined();
  });
});
