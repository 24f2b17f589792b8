import { expect, it } from "vitest";
import { formatMemory, formatNetwork } from "./human-size.ts";

it("formats memory like the seed document", () => {
  expect(formatMemory(0)).toBe("0.00 B");
  expect(formatMemory(128.5 * 1024 * 1024)).toBe("128.50 MiB");
  expect(formatMemory(4 * 1024 ** 3)).toBe("4.00 GiB");
  expect(formatMemory(3.05 * 1024 * 1024)).toBe("3.05 MiB");
  expect(formatMemory(1023)).toBe("1023.00 B");
});

it("formats network totals like the seed document", () => {
  expect(formatNetwork(0)).toBe("0 B");
  expect(formatNetwork(512)).toBe("512 B");
  expect(formatNetwork(512 * 1024)).toBe("512.00 KB");
  expect(formatNetwork(1.25 * 1024 * 1024)).toBe("1.25 MB");
  expect(formatNetwork(401.12 * 1024)).toBe("401.12 KB");
});
