import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret, hashPassword, needsRehash, timingSafeEqual, verifyPassword } from "./crypto.ts";

const KEY = "mOo7k0PJGemYJz25y3xQuFbYoQm4RU98LgT17cG2W6Q=";

describe("password hashing", () => {
  it("verifies the right password only, with a salt per hash and a versioned encoding", async () => {
    const a = await hashPassword("correct horse");
    const b = await hashPassword("correct horse");
    expect(a).toMatch(/^\$pbkdf2-sha256\$v=1\$i=100000\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct horsf", a)).toBe(false);
    expect(await verifyPassword("correct horse", "plain-text")).toBe(false);
    expect(needsRehash(a)).toBe(false);
    expect(needsRehash(a.replace("i=100000", "i=1000"))).toBe(true);
  });
});

describe("secrets at rest", () => {
  it("round-trip through AES-GCM with a fresh nonce each time, and detect tampering", async () => {
    const sealed = await encryptSecret("DATABASE_PASSWORD=hunter2", KEY);
    expect(sealed).not.toContain("hunter2");
    expect(await encryptSecret("DATABASE_PASSWORD=hunter2", KEY)).not.toBe(sealed);
    expect(await decryptSecret(sealed, KEY)).toBe("DATABASE_PASSWORD=hunter2");
    const tampered = sealed.slice(0, -2) + (sealed.endsWith("A") ? "BB" : "AA");
    await expect(decryptSecret(tampered, KEY)).rejects.toThrow();
    await expect(encryptSecret("x", "c2hvcnQ=")).rejects.toThrow(/32 random bytes/);
  });
});

it("timingSafeEqual compares contents", () => {
  expect(timingSafeEqual("abc", "abc")).toBe(true);
  expect(timingSafeEqual("abc", "abd")).toBe(false);
  expect(timingSafeEqual("abc", "abcd")).toBe(false);
});
