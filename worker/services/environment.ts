// Environment variables of an application: set as dotenv text or an object, stored sealed
// (AES-GCM, lib/crypto.ts), shown masked unless an admin asks to reveal them, and injected into
// the container at deploy time. Values never reach logs, audit metadata or deployment output.
import { ApiError, type FieldError } from "../errors.ts";
import { decryptSecret, encryptSecret } from "../lib/crypto.ts";

export type EnvVars = Record<string, string>;

export const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** What every masked secret value shows: environment values, inspect documents, Dokploy's env text. */
export const MASK = "********";
const MAX_VARS = 500;
const MAX_VALUE = 32 * 1024;

/**
 * Parses dotenv text: `KEY=value` lines, `export KEY=value`, `#` comments, blank lines, values in
 * single quotes (literal) or double quotes (with \n, \", \\ escapes, may span lines), and
 * unquoted values with an inline ` #` comment. Returns every bad line, not just the first.
 */
export function parseDotenv(text: string): { vars: EnvVars; errors: string[] } {
  const vars: EnvVars = {};
  const errors: string[] = [];
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!match) {
      errors.push(`line ${i + 1}: expected KEY=value`);
      continue;
    }
    const key = match[1]!;
    if (!ENV_KEY.test(key)) {
      errors.push(`line ${i + 1}: ${key} is not a valid variable name (letters, digits, '_', '.', '-', not starting with a digit)`);
      continue;
    }
    let value = match[2]!;
    if (value.startsWith('"')) {
      // A double-quoted value may continue over the following lines until its closing quote.
      const escapes: Record<string, string> = { n: "\n", r: "\r", t: "\t", '"': '"', "\\": "\\" };
      let out = "";
      let rest = value;
      let j = 1;
      let closed = false;
      for (;;) {
        while (j < rest.length) {
          const ch = rest[j]!;
          if (ch === "\\" && j + 1 < rest.length) {
            const next = rest[j + 1]!;
            out += escapes[next] ?? `\\${next}`;
            j += 2;
          } else if (ch === '"') {
            closed = true;
            break;
          } else {
            out += ch;
            j++;
          }
        }
        if (closed || i + 1 >= lines.length) break;
        out += "\n";
        rest = lines[++i]!;
        j = 0;
      }
      if (!closed) {
        errors.push(`line ${i + 1}: unterminated double quote`);
        continue;
      }
      value = out;
    } else if (value.startsWith("'")) {
      const closing = value.indexOf("'", 1);
      if (closing < 0) {
        errors.push(`line ${i + 1}: unterminated single quote`);
        continue;
      }
      value = value.slice(1, closing);
    } else {
      value = value.replace(/\s+#.*$/, "").trim();
    }
    vars[key] = value;
  }
  return { vars, errors };
}

/** dotenv text that parseDotenv reads back to the same object. */
export function toDotenv(vars: EnvVars): string {
  return Object.entries(vars)
    .map(([key, value]) =>
      /^[A-Za-z0-9_./:@,+-]*$/.test(value)
        ? `${key}=${value}`
        : `${key}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t")}"`,
    )
    .join("\n");
}

/** dotenv text or an object → validated variables, or a 422 naming each problem. */
export function normalizeEnv(input: string | Record<string, unknown>, pointer = "/body/environment"): EnvVars {
  const errors: FieldError[] = [];
  let vars: EnvVars = {};
  if (typeof input === "string") {
    const parsed = parseDotenv(input);
    vars = parsed.vars;
    for (const detail of parsed.errors) errors.push({ pointer, detail });
  } else {
    for (const [key, value] of Object.entries(input)) {
      if (!ENV_KEY.test(key))
        errors.push({
          pointer: `${pointer}/${key}`,
          detail: "not a valid variable name (letters, digits, '_', '.', '-', not starting with a digit)",
        });
      else if (typeof value === "string") vars[key] = value;
      else if (typeof value === "number" || typeof value === "boolean") vars[key] = String(value);
      else errors.push({ pointer: `${pointer}/${key}`, detail: "must be a string, number or boolean" });
    }
  }
  if (Object.keys(vars).length > MAX_VARS) errors.push({ pointer, detail: `at most ${MAX_VARS} variables` });
  for (const [key, value] of Object.entries(vars))
    if (value.length > MAX_VALUE) errors.push({ pointer: `${pointer}/${key}`, detail: `longer than ${MAX_VALUE} characters` });
  if (errors.length) throw new ApiError(422, errors.map((e) => `${e.pointer}: ${e.detail}`).join("; "), { errors });
  return vars;
}

export async function sealEnv(vars: EnvVars, key: string): Promise<string | null> {
  return Object.keys(vars).length === 0 ? null : encryptSecret(JSON.stringify(vars), key);
}

export async function openEnv(sealed: string | null | undefined, key: string): Promise<EnvVars> {
  if (!sealed) return {};
  return JSON.parse(await decryptSecret(sealed, key)) as EnvVars;
}

/** Names with their values hidden: enough to see what is set, nothing to leak. */
export const maskEnv = (vars: EnvVars): EnvVars => Object.fromEntries(Object.keys(vars).map((k) => [k, MASK]));
