// `npm start` believes only the socket for the client's address (issue 14.5): wrangler dev alone
// would pass a client's own CF-Connecting-IP / X-Real-IP through, and every spoofed value would get
// a fresh anonymous rate-limit bucket.
import { describe, expect, it } from "vitest";
import { api } from "./client.ts";

describe("the client address under npm start", () => {
  it("comes from the socket: spoofed address headers do not make new rate-limit buckets", async () => {
    const remaining: number[] = [];
    for (const spoofed of ["203.0.113.1", "203.0.113.2", "2001:db8::3", "203.0.113.4"]) {
      const res = await api("/api/v1/nothing-here", {
        headers: { "cf-connecting-ip": spoofed, "x-real-ip": spoofed, "x-forwarded-for": spoofed, "true-client-ip": spoofed },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(404);
      remaining.push(Number(res.headers.get("x-ratelimit-remaining")));
    }
    // One bucket (this machine's), shared with the other tests running now: it only goes down.
    for (let i = 1; i < remaining.length; i++) expect(remaining[i]).toBeLessThan(remaining[i - 1]!);
    const limit = Number((await api("/api/v1/nothing-here")).headers.get("x-ratelimit-limit"));
    expect(remaining[0]).toBeLessThan(limit);
  });
});

describe("wrangler's local-only endpoints under npm start", () => {
  it("are not served to clients: /__scheduled (the cron trigger) and /cdn-cgi/ answer 404", async () => {
    for (const path of ["/__scheduled", "/__scheduled?cron=*%2F15+*+*+*+*", "/cdn-cgi/local/scheduled"]) {
      const res = await api(path);
      expect(res.status, path).toBe(404);
      expect(JSON.stringify(res.body)).not.toMatch(/Ran scheduled event/);
    }
  });
});
