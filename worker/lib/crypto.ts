// Password hashing, token hashing and secret encryption on WebCrypto, so the same code runs in
// workerd and in Node.

const encoder = new TextEncoder();

export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Constant-time comparison of two strings (their lengths are not secret). */
export function timingSafeEqual(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

// ---- Passwords -------------------------------------------------------------------------------
// PBKDF2-HMAC-SHA256 through WebCrypto. Workers cap PBKDF2 at 100,000 iterations, so that is the
// cost; the encoding names the algorithm and its parameters so that a later version can raise them
// and `needsRehash` can upgrade hashes at the next login.
//   $pbkdf2-sha256$v=1$i=100000$<salt b64url>$<hash b64url>

const PASSWORD_ITERATIONS = 100_000;
const PASSWORD_VERSION = 1;

async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password.normalize("NFKC")), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await pbkdf2(password, salt, PASSWORD_ITERATIONS);
  return `$pbkdf2-sha256$v=${PASSWORD_VERSION}$i=${PASSWORD_ITERATIONS}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const match = /^\$pbkdf2-sha256\$v=(\d+)\$i=(\d+)\$([\w-]+)\$([\w-]+)$/.exec(encoded);
  if (!match) return false;
  const iterations = Number(match[2]);
  const actual = await pbkdf2(password, fromBase64Url(match[3]!), iterations);
  return timingSafeEqual(toBase64Url(actual), match[4]!);
}

export function needsRehash(encoded: string): boolean {
  return !encoded.startsWith(`$pbkdf2-sha256$v=${PASSWORD_VERSION}$i=${PASSWORD_ITERATIONS}$`);
}

/**
 * A hash of a random password, computed once per isolate: verifying against it lets an unknown
 * user's login take as long as a wrong password's, so the two cannot be told apart by timing.
 */
let decoyHash: Promise<string> | undefined;
export function decoyPasswordHash(): Promise<string> {
  decoyHash ??= hashPassword(crypto.randomUUID());
  return decoyHash;
}

// ---- Secrets at rest -------------------------------------------------------------------------
// AES-256-GCM with a random 96-bit nonce per value; the key is a Worker secret (base64, 32
// bytes). Stored as `v1.<nonce b64url>.<ciphertext b64url>` so the scheme can change later.

async function importAesKey(keyBase64: string): Promise<CryptoKey> {
  const raw = fromBase64Url(keyBase64.trim());
  if (raw.length !== 32) {
    throw new Error("ENCRYPTION_KEY must be 32 random bytes in base64: generate one with `openssl rand -base64 32`.");
  }
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function encryptSecret(plaintext: string, keyBase64: string): Promise<string> {
  const key = await importAesKey(keyBase64);
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, key, encoder.encode(plaintext));
  return `v1.${toBase64Url(nonce)}.${toBase64Url(new Uint8Array(sealed))}`;
}

export async function decryptSecret(sealed: string, keyBase64: string): Promise<string> {
  const [version, nonce, data] = sealed.split(".");
  if (version !== "v1" || !nonce || !data) throw new Error("Unknown secret encoding.");
  const key = await importAesKey(keyBase64);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64Url(nonce) }, key, fromBase64Url(data));
  return new TextDecoder().decode(plain);
}
