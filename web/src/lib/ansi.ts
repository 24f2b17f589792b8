// ANSI colour codes in container and build logs, turned into styled spans (anser parses them).
import Anser from "anser";

export interface Segment {
  text: string;
  fg: string | null;
  bg: string | null;
  bold: boolean;
  italic: boolean;
  underline: boolean;
}

/** Colour escapes become segments; other escape sequences (cursor moves, erase) are dropped. */
export function parseAnsi(text: string): Segment[] {
  if (!text.includes("\u001b")) return [{ text, fg: null, bg: null, bold: false, italic: false, underline: false }];
  return Anser.ansiToJson(text, { json: true, remove_empty: true, use_classes: false }).map((e) => ({
    text: e.content,
    fg: e.fg ? `rgb(${e.fg})` : null,
    bg: e.bg ? `rgb(${e.bg})` : null,
    bold: e.decorations.includes("bold"),
    italic: e.decorations.includes("italic"),
    underline: e.decorations.includes("underline"),
  }));
}

/** The text without any escape sequence (search and download use it). */
export const stripAnsi = (text: string): string =>
  parseAnsi(text)
    .map((s) => s.text)
    .join("");
