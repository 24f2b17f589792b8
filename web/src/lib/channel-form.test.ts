import { describe, expect, it } from "vitest";
import { CHANNEL_KINDS, channelBody, channelConfigPatch, channelFormValues, fieldsOf } from "./channel-form.ts";

describe("channel form", () => {
  it("offers every kind the API accepts, each with its secret field masked", () => {
    expect(CHANNEL_KINDS.map((k) => k.kind).sort()).toEqual(["discord", "email", "slack", "telegram", "webhook"]);
    for (const k of CHANNEL_KINDS)
      expect(
        k.fields.some((f) => f.secret),
        k.kind,
      ).toBe(true);
  });

  it("builds a webhook's config from the kind's fields only, trimmed", () => {
    expect(channelBody("webhook", " ops ", { url: " https://hooks.test/x ", secret: "s3cret", stray: "no" })).toEqual({
      type: "webhook",
      name: "ops",
      config: { url: "https://hooks.test/x", secret: "s3cret" },
    });
  });

  it("leaves empty optional fields out so the API's defaults apply, and keeps empty required ones for the API to refuse", () => {
    expect(channelBody("telegram", "t", { bot_token: "1:abc", chat_id: "42", api_base_url: "  " }).config).toEqual({
      bot_token: "1:abc",
      chat_id: "42",
    });
    expect(channelBody("slack", "s", {}).config).toEqual({ webhook_url: "" });
  });

  it("sends several email recipients as a list and one as a string", () => {
    const base = { api_key: "re_x", from: "Pier <a@example.com>" };
    const to = (v: string) => (channelBody("email", "e", { ...base, to: v }).config as { to: unknown }).to;
    expect(to("a@example.com, b@example.com,")).toEqual(["a@example.com", "b@example.com"]);
    expect(to("a@example.com")).toBe("a@example.com");
    expect(fieldsOf("email").find((f) => f.key === "api_key")?.secret).toBe(true);
  });

  it("patches only the fields changed, so a secret left masked keeps its value", () => {
    const read = { url: "https://hooks.test/x", secret: "********" };
    const values = channelFormValues("webhook", read);
    expect(values).toEqual({ url: "https://hooks.test/x", secret: "********" });
    expect(channelConfigPatch("webhook", read, values)).toEqual({});
    expect(channelConfigPatch("webhook", read, { ...values, url: " https://hooks.test/y " })).toEqual({ url: "https://hooks.test/y" });
    expect(channelConfigPatch("webhook", read, { ...values, secret: "a-new-signing-secret" })).toEqual({ secret: "a-new-signing-secret" });
  });

  it("clears an optional field emptied, and edits email recipients as a comma list", () => {
    const read = {
      api_key: "re_…abcd",
      from: "Pier <a@example.test>",
      to: ["x@example.test", "y@example.test"],
      api_base_url: "https://mail.test",
    };
    const values = channelFormValues("email", read);
    expect(values.to).toBe("x@example.test, y@example.test");
    expect(channelConfigPatch("email", read, values)).toEqual({});
    expect(channelConfigPatch("email", read, { ...values, to: "x@example.test", api_base_url: "" })).toEqual({
      to: "x@example.test",
      api_base_url: null,
    });
  });
});
