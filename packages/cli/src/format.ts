/** Terminal output helpers: number formatting, aligned tables, ANSI colors only when wanted. */

export interface Style {
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly blue: (s: string) => string;
  readonly magenta: (s: string) => string;
  readonly cyan: (s: string) => string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;

/** ANSI styles when `color` is true, identity functions otherwise. */
export function makeStyle(color: boolean): Style {
  if (!color) {
    const id = (s: string) => s;
    return { bold: id, dim: id, red: id, green: id, yellow: id, blue: id, magenta: id, cyan: id };
  }
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    blue: wrap(34, 39),
    magenta: wrap(35, 39),
    cyan: wrap(36, 39),
  };
}

/** Removes ANSI escape sequences. */
export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the ANSI colour codes this removes
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

/** A number for reading: integers as is, others to `digits` significant digits, -0 as 0. */
export function formatNumber(value: number, digits = 6): string {
  if (Object.is(value, -0)) return "0";
  if (!Number.isFinite(value)) return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const text = String(Number(value.toPrecision(digits)));
  return text;
}

/** Columns a string takes in a terminal: code points, without ANSI codes and combining marks. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of stripAnsi(text)) if (!/\p{M}/u.test(ch)) width++;
  return width;
}

export type Align = "left" | "right";

/**
 * An aligned table: a header row, a rule, then the rows. Cells may contain ANSI codes (widths
 * are measured without them). Columns are separated by two spaces.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[], style: Style): string {
  const widths = header.map((h, c) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[c] ?? ""))));
  const pad = (cell: string, c: number): string => {
    const gap = " ".repeat(widths[c]! - displayWidth(cell));
    return align[c] === "right" ? gap + cell : cell + gap;
  };
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => pad(cell, c))
      .join("  ")
      .trimEnd();
  const out = [style.bold(line(header)), style.dim(widths.map((w) => "─".repeat(w)).join("  ")), ...rows.map(line)];
  return out.join("\n");
}
