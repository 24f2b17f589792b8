import { describe, expect, it } from "vitest";
import type { Bindings } from "./env.ts";
import { localAgentControlUrl, publicBaseUrl, publicOrigin } from "./settings.ts";

const env = (vars: Partial<Bindings>) => vars as Bindings;

describe("settings read from PIER_* variables", () => {
  it("takes PIER_PUBLIC_URL's origin, and none from a malformed or empty one", () => {
    expect(publicOrigin(env({ PIER_PUBLIC_URL: "https://pier.example.com/base/" }))).toBe("https://pier.example.com");
    expect(publicOrigin(env({ PIER_PUBLIC_URL: "not a url" }))).toBeUndefined();
    expect(publicOrigin(env({ PIER_PUBLIC_URL: "" }))).toBeUndefined();
    expect(publicOrigin(env({}))).toBeUndefined();
  });

  it("uses the request's origin for public URLs unless PIER_PUBLIC_URL is set", () => {
    expect(publicBaseUrl(env({}), "http://127.0.0.1:8787/api/v1/hosts")).toBe("http://127.0.0.1:8787");
    expect(publicBaseUrl(env({ PIER_PUBLIC_URL: "https://pier.example.com//" }), "http://127.0.0.1:8787/x")).toBe(
      "https://pier.example.com",
    );
  });

  it("has npm start's local agent control only when the variable holds a URL", () => {
    expect(localAgentControlUrl(env({ PIER_LOCAL_AGENT_CONTROL: " http://127.0.0.1:9/secret " }))).toBe("http://127.0.0.1:9/secret");
    expect(localAgentControlUrl(env({ PIER_LOCAL_AGENT_CONTROL: "  " }))).toBeUndefined();
    expect(localAgentControlUrl(env({}))).toBeUndefined();
  });
});
