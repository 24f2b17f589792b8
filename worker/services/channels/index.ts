// Notification channels: config (schemas, masking, sealing) · private-hosts (SSRF guard) · crud ·
// deliveries (queue, retry, retention) · payloads (per-provider requests) · send (one HTTP attempt).
export * from "./config.ts";
export * from "./crud.ts";
export * from "./deliveries.ts";
export * from "./payloads.ts";
export * from "./private-hosts.ts";
export * from "./send.ts";
