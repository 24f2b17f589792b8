const ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz";

/** Random string from a 36-letter alphabet; 20 letters carry ~103 bits. */
export function randomString(length: number): string {
  // 252 is the largest multiple of 36 below 256: rejecting bytes above it keeps letters uniform.
  const out: string[] = [];
  while (out.length < length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (byte < 252 && out.length < length) out.push(ALPHABET[byte % 36]!);
    }
  }
  return out.join("");
}

export type IdPrefix =
  | "org"
  | "usr"
  | "key"
  | "aud"
  | "hst"
  | "prj"
  | "env"
  | "app"
  | "dpl"
  | "ntf"
  | "chn"
  | "tsk"
  | "dom"
  | "dbs"
  | "whd"
  | "dlv"
  | "alt"
  | "alr"
  | "reg"
  | "bkd"
  | "bak"
  | "bpl"
  | "bpr"
  | "srv"
  | "srl"
  | "sdk"
  | "fwg"
  | "fwr"
  | "vlt";

/** Opaque prefixed ids (`usr_…`), as DESIGN.md asks; the prefix tells a reader what it names. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomString(20)}`;
}
