// The environment editor's logic, kept out of the component so it can be tested on its own: rows
// as typed, KEY=VALUE lines pasted in bulk, and the diff shown before saving. The API parses
// dotenv itself and validates every name; this only has to agree with it on the common shapes.

export interface EnvRow {
  key: string;
  value: string;
}

export interface EnvDiff {
  added: string[];
  changed: string[];
  removed: string[];
}

/**
 * KEY=VALUE lines as people paste them from a .env file: blank lines and `#` comments skipped, an
 * `export ` prefix dropped, one pair of matching quotes around the value removed. Lines without
 * `=` are returned apart, so the editor can say which ones it did not understand.
 */
export function parseEnvLines(text: string): { rows: EnvRow[]; rejected: string[] } {
  const rows: EnvRow[] = [];
  const rejected: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const body = line.startsWith("export ") ? line.slice(7).trimStart() : line;
    const eq = body.indexOf("=");
    const key = eq > 0 ? body.slice(0, eq).trim() : "";
    if (key === "" || /\s/.test(key)) {
      rejected.push(line);
      continue;
    }
    let value = body.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replaceAll("\\n", "\n").replaceAll('\\"', '"');
    }
    rows.push({ key, value });
  }
  return { rows, rejected };
}

/** Pasted rows merged into the editor's: a key already there takes the pasted value in place. */
export function mergeRows(current: EnvRow[], pasted: EnvRow[]): EnvRow[] {
  const next = current.map((r) => ({ ...r }));
  for (const p of pasted) {
    const at = next.findIndex((r) => r.key === p.key);
    if (at >= 0) next[at] = { key: p.key, value: p.value };
    else next.push({ ...p });
  }
  return next;
}

/** The rows as the object the API takes; rows without a name are left out, a repeated name keeps its last value. */
export function rowsToEnv(rows: EnvRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    const key = r.key.trim();
    if (key) out[key] = r.value;
  }
  return out;
}

export function diffEnv(before: Record<string, string>, after: Record<string, string>): EnvDiff {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [k, v] of Object.entries(after)) {
    if (!(k in before)) added.push(k);
    else if (before[k] !== v) changed.push(k);
  }
  for (const k of Object.keys(before)) if (!(k in after)) removed.push(k);
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort() };
}

export const isEmptyDiff = (d: EnvDiff) => d.added.length + d.changed.length + d.removed.length === 0;

/** Names typed twice: the API would keep only one, so the editor says so before saving. */
export function duplicateKeys(rows: EnvRow[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const r of rows) {
    const k = r.key.trim();
    if (!k) continue;
    if (seen.has(k)) dup.add(k);
    seen.add(k);
  }
  return [...dup];
}
