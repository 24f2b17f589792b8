/** The relay protocol's version, stamped on every message as `v` (a leaf module, so every part of the protocol can use it). */
export const PROTOCOL_VERSION = 1;
