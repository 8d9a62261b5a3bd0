/**
 * The options objects of every entry point, checked when they are given: an unknown key (a typo,
 * or an option of another library such as `hasAux`) or a malformed value is an ArgumentError that
 * names the entry point and the option, never silently ignored.
 */
import { ArgumentError, describeValue } from "@chainrule/ir";

type Accepts = readonly [accepts: (v: unknown) => boolean, expected: string];

const isBoolean = (v: unknown) => typeof v === "boolean";
const isPositions = (v: unknown) => Array.isArray(v) && v.every((a) => Number.isSafeInteger(a) && (a as number) >= 0);
const OPTIMIZE_PASSES = ["dce", "cse", "fold", "simplify"];
const isOptimize = (v: unknown) =>
  v === false ||
  (v !== null &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    Object.entries(v).every(([k, x]) => OPTIMIZE_PASSES.includes(k) && (x === undefined || typeof x === "boolean")));
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 1;

/** What each option accepts (the message names it). */
const ACCEPTS: Readonly<Record<string, Accepts>> = {
  cacheSize: [isCount, "an integer ≥ 1"],
  staticArgnums: [isPositions, "an array of argument positions (integers ≥ 0)"],
  donate: [isPositions, "an array of argument positions (integers ≥ 0)"],
  kernels: [isBoolean, "a boolean"],
  threads: [isCount, "an integer ≥ 1 (two are used at most)"],
  optimize: [isOptimize, `false or an object of booleans among ${OPTIMIZE_PASSES.join(", ")}`],
  fuse: [isBoolean, "a boolean"],
  reuse: [isBoolean, "a boolean"],
  exactFloat32: [isBoolean, "a boolean"],
  inlineConstants: [isBoolean, "a boolean"],
  ret: [(v) => typeof v === "function", "a function"],
  maxElements: [isCount, "an integer ≥ 1"],
  maxWork: [isCount, "an integer ≥ 1"],
  emit: [Array.isArray, "an array"],
  argnums: [(v) => Number.isSafeInteger(v) || Array.isArray(v), "an argument position or an array of them"],
  hasAux: [isBoolean, "a boolean"],
  staticArgnames: [(v) => Array.isArray(v) && v.every((n) => typeof n === "string"), "an array of parameter names (strings)"],
};

/** Options of the compiled code, shared by every compiling entry point. */
const CODE = ["kernels", "threads", "optimize", "fuse", "reuse", "exactFloat32"] as const;

/** The options each entry point takes. */
export const OPTION_KEYS = {
  jit: ["cacheSize", "staticArgnums", "staticArgnames", "donate", ...CODE],
  transform: ["cacheSize", ...CODE],
  auxTransform: ["cacheSize", "hasAux", ...CODE],
  compileGraph: [...CODE, "inlineConstants", "ret", "maxElements", "maxWork"],
  emitModule: ["emit", "argnums", "exactFloat32"],
} as const;

/** Throws an ArgumentError naming `op` unless `options` is an object of known keys with accepted values. */
export function checkOptions(op: string, options: unknown, keys: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ArgumentError(`${op}: expected an options object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!keys.includes(key)) {
      const elsewhere = OPTION_KEYS.jit.includes(key as never) ? ` (${key} is an option of jit only)` : "";
      throw new ArgumentError(`${op}: expected options among ${keys.join(", ")}, got ${JSON.stringify(key)}${elsewhere}`);
    }
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const [accepts, expected] = ACCEPTS[key]!;
    if (!accepts(value)) throw new ArgumentError(`${op}: expected ${key} to be ${expected}, got ${show(value)}`);
  }
}

/** A value for a message: short arrays of numbers as written (`[1.5]`, `[NaN]`), anything else described. */
function show(value: unknown): string {
  if (Array.isArray(value) && value.length <= 8 && value.every((v) => typeof v === "number")) return `[${value.map(String).join(", ")}]`;
  return describeValue(value);
}

/** At call time: every position in `option` (staticArgnums, donate) names one of the `count` arguments. */
export function checkPositions(op: string, name: string, positions: readonly number[] | undefined, count: number): void {
  if (positions === undefined) return;
  for (const a of positions) {
    if (a >= count) {
      const called = `f was called with ${count} argument${count === 1 ? "" : "s"}`;
      throw new ArgumentError(`${op}: expected ${name} in [0, ${count - 1}] (${called}), got ${JSON.stringify(positions)}`);
    }
  }
}
