import { z } from "@hono/zod-openapi";
import type * as core from "zod/v4/core";
import type * as mini from "zod/mini";

// The relay protocol's schemas are zod/mini (agent-relay/src/protocol.ts says why: the agent's
// memory). They validate as they are anywhere, but the Worker's routes also need classic zod's
// methods on them (`.openapi()`, `.omit()`, `.optional()`), and the OpenAPI generator
// (@asteasolutions/zod-to-openapi) calls classic-only methods (`.meta()`) on every schema it walks.
// Both flavours are built on the same core, so a mini schema becomes the classic one it stands for
// by rebuilding it from its own definition with the classic class of the same name: same checks
// (the core check objects themselves), same messages, same OpenAPI document.

/** The classic zod type a zod/mini type stands for (precise where routes use its methods). */
export type Classic<T> =
  T extends mini.ZodMiniObject<infer Shape, infer Config>
    ? z.ZodObject<{ -readonly [K in keyof Shape]: Classic<Shape[K]> }, Config>
    : T extends mini.ZodMiniOptional<infer Inner>
      ? z.ZodOptional<Classic<Inner>>
      : T extends mini.ZodMiniNullable<infer Inner>
        ? z.ZodNullable<Classic<Inner>>
        : T extends mini.ZodMiniArray<infer Element>
          ? z.ZodArray<Classic<Element>>
          : T extends mini.ZodMiniString<string>
            ? z.ZodString
            : T extends mini.ZodMiniNumber<number>
              ? z.ZodNumber
              : T extends mini.ZodMiniBoolean<boolean>
                ? z.ZodBoolean
                : T extends core.$ZodType
                  ? z.ZodType<core.output<T>, core.input<T>>
                  : never;

const converted = new WeakMap<core.$ZodType, z.ZodType>();

/** Definition fields that hold schemas, by where they sit. */
const ONE = ["innerType", "element", "keyType", "valueType", "in", "out", "left", "right", "catchall", "rest"] as const;
const MANY = ["options", "items"] as const;

/** The classic zod schema for a zod/mini one (a classic schema is returned as it is). */
export function classic<T extends core.$ZodType>(schema: T): Classic<T> {
  if (schema instanceof z.ZodType) return schema as unknown as Classic<T>;
  const known = converted.get(schema);
  if (known) return known as unknown as Classic<T>;
  const name = schema._zod.constr.name;
  const Constructor = (z as unknown as Record<string, new (def: unknown) => z.ZodType>)[name.replace(/^ZodMini/, "Zod")];
  if (!name.startsWith("ZodMini") || typeof Constructor !== "function") {
    throw new Error(`no classic zod class for ${name}: extend worker/lib/protocol-schema.ts`);
  }
  const def: Record<string, unknown> = { ...schema._zod.def };
  if (def.type === "lazy") throw new Error("lazy schemas are not converted: extend worker/lib/protocol-schema.ts");
  if (def.shape) {
    def.shape = Object.fromEntries(Object.entries(def.shape as Record<string, core.$ZodType>).map(([key, value]) => [key, classic(value)]));
  }
  for (const key of ONE) if (def[key]) def[key] = classic(def[key] as core.$ZodType);
  for (const key of MANY) if (Array.isArray(def[key])) def[key] = (def[key] as core.$ZodType[]).map((s) => classic(s));
  const result = new Constructor(def);
  converted.set(schema, result);
  return result as unknown as Classic<T>;
}
