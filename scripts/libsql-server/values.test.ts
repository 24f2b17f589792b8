import { describe, expect, it } from "vitest";
import { HranaError } from "./proto.ts";
import { decodeValue, encodeValue } from "./values.ts";

describe("encodeValue", () => {
  it("encodes each engine type as its Hrana value", () => {
    expect(encodeValue(null)).toEqual({ type: "null" });
    expect(encodeValue(undefined)).toEqual({ type: "null" });
    expect(encodeValue(9223372036854775807n)).toEqual({ type: "integer", value: "9223372036854775807" });
    expect(encodeValue(-9223372036854775808n)).toEqual({ type: "integer", value: "-9223372036854775808" });
    expect(encodeValue(2)).toEqual({ type: "float", value: 2 });
    expect(encodeValue(-0.5)).toEqual({ type: "float", value: -0.5 });
    expect(encodeValue("héllo\n")).toEqual({ type: "text", value: "héllo\n" });
    expect(encodeValue(Buffer.from([0, 255, 1]))).toEqual({ type: "blob", base64: "AP8B" });
    expect(encodeValue(new Uint8Array(0))).toEqual({ type: "blob", base64: "" });
  });

  it("encodes only the viewed bytes of a Uint8Array", () => {
    const view = new Uint8Array([9, 1, 2, 9]).subarray(1, 3);
    expect(encodeValue(view)).toEqual({ type: "blob", base64: Buffer.from([1, 2]).toString("base64") });
  });

  it("refuses types the engine never returns", () => {
    expect(() => encodeValue(true)).toThrow(TypeError);
    expect(() => encodeValue({})).toThrow(TypeError);
  });
});

describe("decodeValue", () => {
  it("decodes each Hrana value to what the engine binds", () => {
    expect(decodeValue({ type: "null" })).toBeNull();
    expect(decodeValue({ type: "integer", value: "9007199254740993" })).toBe(9007199254740993n);
    expect(decodeValue({ type: "integer", value: "-9223372036854775808" })).toBe(-9223372036854775808n);
    expect(decodeValue({ type: "float", value: 3 })).toBe(3);
    expect(decodeValue({ type: "text", value: "" })).toBe("");
    expect(decodeValue({ type: "blob", base64: "AP8B" })).toEqual(Buffer.from([0, 255, 1]));
  });

  it("round-trips with encodeValue", () => {
    for (const v of [null, 0n, 9223372036854775807n, 1.25, "x", Buffer.from("blob")]) {
      expect(decodeValue(encodeValue(v))).toEqual(v);
    }
  });

  it.each([
    ["a non-object", 5],
    ["null", null],
    ["an unknown type", { type: "bool", value: true }],
    ["an integer given as a number", { type: "integer", value: 1 }],
    ["a fractional integer", { type: "integer", value: "1.5" }],
    ["an integer above 2^63-1", { type: "integer", value: "9223372036854775808" }],
    ["an integer below -2^63", { type: "integer", value: "-9223372036854775809" }],
    ["a float given as a string", { type: "float", value: "1.5" }],
    ["text that is not a string", { type: "text", value: 1 }],
    ["a blob without base64", { type: "blob", value: "AA==" }],
  ])("rejects %s with a protocol error", (_, value) => {
    expect(() => decodeValue(value)).toThrow(HranaError);
    try {
      decodeValue(value);
    } catch (e) {
      expect((e as HranaError).code).toBe("PROTOCOL_ERROR");
    }
  });
});
