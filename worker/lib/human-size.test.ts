import { expect, it } from "vitest";
import { dockerHumanSize, formatMemory, formatNetwork } from "./human-size.ts";

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

it("formats sizes like the Docker CLI (go-units HumanSize)", () => {
  expect(dockerHumanSize(0)).toBe("0B");
  expect(dockerHumanSize(999)).toBe("999B");
  expect(dockerHumanSize(1234)).toBe("1.234kB");
  expect(dockerHumanSize(24_100_000)).toBe("24.1MB");
  expect(dockerHumanSize(1_200_000_000)).toBe("1.2GB");
  expect(dockerHumanSize(418_379_909)).toBe("418.4MB");
  // Rounding to four digits may reach 1000 without moving to the next unit, as in Go.
  expect(dockerHumanSize(999_999)).toBe("1000kB");
});
