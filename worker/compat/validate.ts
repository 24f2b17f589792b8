import type { Context } from "hono";
import type { z } from "zod";
import { ApiError, type FieldError, fieldErrors } from "../errors.ts";

/**
 * Reads and validates a JSON body for a compatibility route. Failures are ApiErrors (400 for
 * malformed JSON, 422 with field errors) that each surface renders in its own envelope.
 */
export async function readJson<T extends z.ZodType>(c: Context, schema: T, options: { optional?: boolean } = {}): Promise<z.infer<T>> {
  const text = await c.req.text();
  let value: unknown = {};
  if (text.trim() !== "") {
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError(400, "Malformed JSON in request body.");
    }
  } else if (!options.optional) {
    throw new ApiError(400, "The request body is empty: send a JSON object.");
  }
  return validateBody(schema, value);
}

/** Validates an already-read body (one a route looked into first); fails as `readJson` does. */
export function validateBody<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const errors: FieldError[] = fieldErrors(result.error, "json");
    throw new ApiError(422, errors.map((e) => `${e.pointer.replace(/^\/body\//, "")}: ${e.detail}`).join("; "), { errors });
  }
  return result.data;
}
