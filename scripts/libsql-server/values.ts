import { HranaError, isObject, type Value } from "./proto.ts";

/** A value as the engine binds it and returns it (with safe integers enabled). */
export type SqlValue = null | bigint | number | string | Uint8Array;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

export function encodeValue(v: unknown): Value {
  if (v === null || v === undefined) return { type: "null" };
  if (typeof v === "bigint") return { type: "integer", value: v.toString() };
  // With safe integers on, the engine returns every INTEGER as a bigint, so a number is a REAL.
  if (typeof v === "number") return { type: "float", value: v };
  if (typeof v === "string") return { type: "text", value: v };
  if (v instanceof Uint8Array) {
    return { type: "blob", base64: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  }
  throw new TypeError(`cannot encode a ${typeof v} as a Hrana value`);
}

/**
 * Strict on purpose: the native engine aborts the whole process when asked to bind a type it does
 * not know (a boolean, for one), so nothing unchecked may reach it.
 */
export function decodeValue(v: unknown): SqlValue {
  if (!isObject(v)) throw invalidValue("a value must be an object");
  switch (v.type) {
    case "null":
      return null;
    case "integer": {
      if (typeof v.value !== "string" || !/^-?\d{1,19}$/.test(v.value)) {
        throw invalidValue("an integer value must be a decimal string");
      }
      const n = BigInt(v.value);
      if (n < I64_MIN || n > I64_MAX) throw invalidValue("an integer value must fit in 64 bits");
      return n;
    }
    case "float":
      if (typeof v.value !== "number") throw invalidValue("a float value must be a number");
      return v.value;
    case "text":
      if (typeof v.value !== "string") throw invalidValue("a text value must be a string");
      return v.value;
    case "blob":
      if (typeof v.base64 !== "string") throw invalidValue("a blob value must have a base64 string");
      return Buffer.from(v.base64, "base64");
    default:
      throw invalidValue(`unknown value type ${JSON.stringify(v.type)}`);
  }
}

function invalidValue(message: string): HranaError {
  return new HranaError(`Invalid value: ${message}`, "PROTOCOL_ERROR");
}
