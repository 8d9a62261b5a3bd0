/**
 * What the page shows, computed without the DOM (so it is tested in Node): the parsed expression,
 * the forward rows (a tangent per input direction, or along a custom vector), the reverse rows,
 * each step's chain-rule sum, and the gradient by each engine. Everything comes from the CLI's
 * learner pieces (`@chainrule/cli/learn`) and the engines themselves; nothing here differentiates.
 */
import {
  adjointSum,
  compileExpression,
  ExpressionError,
  formatNumber,
  forwardRows,
  localPartials,
  reverseRows,
  tangentSum,
  type ChainRuleSum,
  type ForwardRow,
  type TapeRow,
} from "@chainrule/cli/learn";
import type { Engine, Tensor } from "@chainrule/ir";

/** Longest expression accepted (a page, not a file): longer input is an error, not a frozen tab. */
export const MAX_SOURCE = 400;
/** Most variables (one number field, slider and table column each). */
export const MAX_VARIABLES = 6;

/** A problem with the input, shown instead of the results; `column` (1-based) gets a caret. */
export interface InputProblem {
  readonly message: string;
  readonly source?: string;
  readonly column?: number;
}

export type Fn = (...args: Tensor[]) => Tensor;

export interface Parsed {
  readonly source: string;
  readonly variables: readonly string[];
  readonly fn: Fn;
}

/** Parses `source`; a syntax error comes back with its column (for the caret), never thrown. */
export function parse(source: string): Parsed | InputProblem {
  if (source.trim() === "") return { message: "expected an expression such as (x + y) * (x - y), got nothing" };
  if (source.length > MAX_SOURCE) return { message: `expected at most ${MAX_SOURCE} characters, got ${source.length}` };
  try {
    const compiled = compileExpression(source);
    if (compiled.variables.length === 0) {
      return { message: "expected at least one variable (a constant has no derivative to step through)" };
    }
    if (compiled.variables.length > MAX_VARIABLES) {
      return { message: `expected at most ${MAX_VARIABLES} variables, got ${compiled.variables.length}` };
    }
    return { source, variables: compiled.variables, fn: compiled.fn as Fn };
  } catch (e) {
    if (e instanceof ExpressionError) return { message: e.reason, source: e.source, column: e.column };
    return { message: e instanceof Error ? e.message : String(e) };
  }
}

export function isProblem(x: Parsed | InputProblem | Analysis): x is InputProblem {
  return "message" in x;
}

/** The seed direction of forward mode: one variable's (∂/∂x), or a custom tangent vector. */
export type Seed = { readonly kind: "variable"; readonly index: number } | { readonly kind: "custom"; readonly vector: readonly number[] };

export interface Analysis {
  readonly parsed: Parsed;
  readonly point: readonly number[];
  /** Forward rows with one tangent per variable (∂/∂x, ∂/∂y, …). */
  readonly forward: readonly ForwardRow[];
  /** Forward rows along the custom vector (one tangent each), when the seed is custom. */
  readonly along: readonly ForwardRow[] | undefined;
  readonly seed: Seed;
  /** Reverse rows in tape order (inputs first, the output last). */
  readonly reverse: readonly TapeRow[];
  readonly partials: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>;
}

/** Runs both learner's traces at `point`. Errors from the engines come back as problems. */
export function analyse(parsed: Parsed, point: readonly number[], seed: Seed): Analysis | InputProblem {
  try {
    const reverse = reverseRows(parsed.fn, point, parsed.variables);
    const forward = forwardRows(parsed.fn, point, parsed.variables, reverse);
    const along = seed.kind === "custom" ? forwardRows(parsed.fn, point, parsed.variables, reverse, seed.vector) : undefined;
    return { parsed, point, forward, along, seed, reverse, partials: localPartials(reverse) };
  } catch (e) {
    return { message: e instanceof Error ? e.message : String(e) };
  }
}

/** The rows and direction index stepping uses for the chosen seed. */
function seededRows(a: Analysis): { rows: readonly ForwardRow[]; k: number } {
  return a.along !== undefined ? { rows: a.along, k: 0 } : { rows: a.forward, k: a.seed.kind === "variable" ? a.seed.index : 0 };
}

/** The seed direction as text: `∂/∂x`, or `v = (1, 1)`. */
export function seedLabel(a: Analysis): string {
  if (a.seed.kind === "variable") return `∂/∂${a.parsed.variables[a.seed.index]}`;
  return `v = (${a.seed.vector.map((v) => formatNumber(v)).join(", ")})`;
}

export interface ForwardStep {
  readonly node: string;
  readonly op: string;
  readonly inputs: readonly string[];
  /** The tangent along the seed direction. */
  readonly tangent: number | string;
  readonly sum: ChainRuleSum;
}

/** Forward mode one node at a time, in the order values are computed. */
export function forwardSteps(a: Analysis): ForwardStep[] {
  const { rows, k } = seededRows(a);
  return rows.map((row) => ({
    node: row.node,
    op: row.op,
    inputs: row.inputs,
    tangent: row.tangents[k]!,
    sum: tangentSum(row, k, rows, a.partials),
  }));
}

export interface ReverseStep {
  readonly node: string;
  readonly op: string;
  readonly adjoint: number | string;
  readonly sum: ChainRuleSum;
  /** The uses this adjoint sums over: the node using it, and that use's contribution. */
  readonly uses: readonly { readonly from: string; readonly contribution: number | string }[];
}

const show = (v: number | Tensor): number | string => (typeof v === "number" ? v : v.toString());

/** Reverse mode one node at a time, swept backward from the output. */
export function reverseSteps(a: Analysis): ReverseStep[] {
  const adjoints = new Map(a.reverse.map((r) => [r.node, r.adjoint]));
  return [...a.reverse].reverse().map((row) => ({
    node: row.node,
    op: row.op,
    adjoint: show(row.adjoint),
    sum: adjointSum(row, adjoints),
    uses: row.terms.map((t) => ({ from: t.from, contribution: show(t.value) })),
  }));
}

export interface EngineResult {
  readonly engine: string;
  readonly value?: number;
  readonly gradient?: readonly number[];
  /** Why this engine gave no result (the JIT where the page's CSP forbids eval). */
  readonly error?: string;
}

const toNumber = (v: Tensor | number): number => (typeof v === "number" ? v : v.item());

/** f and ∇f at the point by one engine; a failure (such as a refused `new Function`) is reported, not thrown. */
export function gradientBy(name: string, engine: Engine, parsed: Parsed, point: readonly number[]): EngineResult {
  try {
    const argnums = parsed.variables.map((_, i) => i);
    const [value, grads] = engine.valueAndGrad(parsed.fn, argnums)(...point) as unknown as [Tensor | number, (Tensor | number)[]];
    return { engine: name, value: toNumber(value), gradient: grads.map(toNumber) };
  } catch (e) {
    // the message only: a minified build renames error classes, so `name` can read "c"
    return { engine: name, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Reads a number field: a finite number, or a problem naming the field. */
export function readNumber(name: string, text: string): number | InputProblem {
  const trimmed = text.trim();
  const value = trimmed === "" ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(value)) return { message: `${name}: expected a finite number, got ${JSON.stringify(text)}` };
  return value;
}
