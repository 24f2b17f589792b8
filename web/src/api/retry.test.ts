import { describe, expect, it } from "vitest";
import { ApiProblem } from "./problem.ts";
import { queryRetryDelay, retryQuery } from "./retry.ts";

describe("query retries", () => {
  const noAnswer = new TypeError("Failed to fetch");

  it("keeps trying a request that got no answer (a network change) eight times, quickly", () => {
    expect([0, 1, 7].map((n) => retryQuery(n, noAnswer))).toEqual([true, true, true]);
    expect(retryQuery(8, noAnswer)).toBe(false);
    const delays = Array.from({ length: 8 }, (_, n) => queryRetryDelay(n, noAnswer));
    expect(delays).toEqual([250, 500, 1_000, 2_000, 4_000, 4_000, 4_000, 4_000]);
  });

  it("tries server errors and 429 three times, and takes other 4xx as answers", () => {
    for (const status of [500, 503, 429]) {
      expect(retryQuery(2, new ApiProblem(status, "x")), String(status)).toBe(true);
      expect(retryQuery(3, new ApiProblem(status, "x")), String(status)).toBe(false);
    }
    for (const status of [400, 401, 403, 404, 409, 422]) expect(retryQuery(0, new ApiProblem(status, "x")), String(status)).toBe(false);
    expect(queryRetryDelay(1, new ApiProblem(500, "x"))).toBe(2_000);
  });
});
