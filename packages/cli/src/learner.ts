/**
 * The two learner's traces, from the engines themselves: forward's `traceForward` (values and
 * tangents per direction) and reverse's `tapeRows` (values, adjoints, chain-rule terms), with
 * the forward rows renamed to reverse's names (inputs by variable, intermediates a, b, …, the
 * output f; constants shown by value) so that both tables speak of the same nodes.
 */
import { traceForward, type Direction, type ForwardStep } from "@chainrule/forward";
import { tapeRows, type TapeRow } from "@chainrule/reverse";
import type { NestedArray, Tensor } from "@chainrule/ir";
import { formatNumber } from "./format.js";

export interface ForwardRow {
  readonly node: string;
  readonly op: string;
  readonly inputs: readonly string[];
  /** A number, or text for booleans and non-scalars. */
  readonly value: number | string;
  /** The tangent along each input direction (∂node/∂variable); "—" for booleans. */
  readonly tangents: readonly (number | string)[];
  readonly isOutput: boolean;
}

type Fn = (...args: Tensor[]) => Tensor;

/** A number as is; a boolean or an array as text. */
function scalarOrText(value: NestedArray): number | string {
  return typeof value === "number" ? value : JSON.stringify(value);
}

const LETTERS = "abcdeghkmnpqrstuvw";

/** Names for intermediates that cannot clash with the variables (or with the output's name). */
function nodeNames(variables: readonly string[], output: string): () => string {
  const taken = new Set([...variables, output]);
  let letter = 0;
  let counter = 1;
  return () => {
    while (letter < LETTERS.length) {
      const name = LETTERS[letter++]!;
      if (!taken.has(name)) return name;
    }
    for (;;) {
      const name = `v${counter++}`;
      if (!taken.has(name)) return name;
    }
  };
}

/** The output's name: f, unless a variable is called f. */
export function outputName(variables: readonly string[]): string {
  return variables.includes("f") ? "out" : "f";
}

/**
 * The reverse-mode rows (inputs first, then nodes in the order they ran), named: inputs by
 * their variable, intermediates a, b, … (skipping the variables' names), the output f.
 */
export function reverseRows(fn: Fn, point: readonly number[], variables: readonly string[]): TapeRow[] {
  // Placeholders that cannot collide with the engine's own node names, renamed afterwards.
  const placeholders = variables.map((_, i) => `#${i}`);
  const output = outputName(variables);
  const rows = tapeRows(fn, point, { inputNames: placeholders, outputName: "#out" });
  const fresh = nodeNames(variables, output);
  const rename = new Map<string, string>(placeholders.map((p, i) => [p, variables[i]!]));
  rename.set("#out", output);
  for (const row of rows) if (!rename.has(row.node)) rename.set(row.node, fresh());
  const nameOf = (name: string) => rename.get(name) ?? name;
  return rows.map((row) => ({
    ...row,
    node: nameOf(row.node),
    inputs: row.inputs.map(nameOf),
    terms: row.terms.map((t) => ({ ...t, from: nameOf(t.from) })),
  }));
}

/**
 * The forward-mode rows, named like `reverseRows`: one direction per variable, or, given
 * `direction` (a tangent per variable), the single tangent along that vector.
 */
export function forwardRows(
  fn: Fn,
  point: readonly number[],
  variables: readonly string[],
  reverse?: readonly TapeRow[],
  direction?: readonly number[],
): ForwardRow[] {
  const placeholders = variables.map((_, i) => `#${i}`);
  const seed: Direction = direction === undefined ? variables.map((_, i) => i) : { tangents: [...direction] };
  const trace = traceForward(fn as (...args: never[]) => unknown, point, seed, { names: placeholders });
  const constants = new Map<string, string>();
  for (const step of trace.steps)
    if (step.op === "constant") constants.set(step.name, typeof step.value === "number" ? String(step.value) : "const");
  const computed = trace.steps.filter((s) => s.op !== "input" && s.op !== "constant");
  const rename = new Map<string, string>(placeholders.map((p, i) => [p, variables[i]!]));
  // Match forward's steps to the reverse tape's nodes in order (the tape skips non-differentiable
  // steps such as comparisons); unmatched steps get fresh names that clash with nothing.
  const reverseNodes = reverse?.filter((r) => r.op !== "input") ?? [];
  const used = new Set(reverseNodes.map((r) => r.node));
  const nextName = nodeNames([...variables, ...used], outputName(variables));
  let k = 0;
  for (const step of computed) {
    const match = reverseNodes[k];
    if (match && match.op === step.op) {
      rename.set(step.name, match.node);
      k++;
    } else {
      rename.set(step.name, step.name === trace.output ? outputName(variables) : nextName());
    }
  }
  const nameOf = (name: string) => constants.get(name) ?? rename.get(name) ?? name;
  return trace.steps
    .filter((s: ForwardStep) => s.op !== "constant")
    .map((s) => ({
      node: nameOf(s.name),
      op: s.op,
      inputs: s.inputs.map(nameOf),
      value: scalarOrText(s.value),
      // a comparison's boolean result has no tangent
      tangents: typeof s.value === "boolean" ? s.tangents.map(() => "—") : s.tangents.map(scalarOrText),
      isOutput: s.name === trace.output,
    }));
}

const BAR = "\u0304"; // combining macron: a̅ reads "adjoint of a"
const DOT = "\u0307"; // combining dot above: ȧ reads "tangent of a"

/** A number inside a product: negative numbers in parentheses, `1·(-1)`. */
function factor(value: number): string {
  const text = formatNumber(value);
  return value < 0 ? `(${text})` : text;
}

function cellText(value: number | string | Tensor): string {
  return typeof value === "number" ? formatNumber(value) : typeof value === "string" ? value : value.toString();
}

/** A chain-rule sum, written twice: with symbols (`ā·∂a/∂x + b̄·∂b/∂x`) and with numbers (`1·1 + 5·1`). */
export interface ChainRuleSum {
  readonly symbolic: string;
  readonly numeric: string;
}

/**
 * The adjoint of `row` as the sum over its uses, `x̄ = ā·∂a/∂x + b̄·∂b/∂x = 1·1 + 5·1`: each use
 * of a node contributes (user's adjoint)·(local derivative). The output's is the seed 1.
 */
export function adjointSum(row: TapeRow, adjoints: ReadonlyMap<string, number | Tensor>): ChainRuleSum {
  if (row.isOutput) return { symbolic: `seed: ∂${row.node}/∂${row.node}`, numeric: "1" };
  if (row.terms.length === 0) return { symbolic: "0", numeric: "0 (f does not use it)" };
  const symbolic = row.terms.map((t) => `${t.from}${BAR}·∂${t.from}/∂${row.node}`).join(" + ");
  const numeric = row.terms
    .map((t) => {
      const upstream = adjoints.get(t.from);
      if (typeof t.value === "number" && typeof upstream === "number" && upstream !== 0 && Number.isFinite(upstream)) {
        // the engine gives the local partial ∂from/∂node; older traces only the term
        return `${formatNumber(upstream)}·${factor(t.partial ?? t.value / upstream)}`;
      }
      return cellText(t.value);
    })
    .join(" + ");
  return { symbolic, numeric };
}

/**
 * The local partials ∂node/∂input of every node, read from the reverse tape (where the engine
 * gives them: scalar nodes whose adjoint is not zero): `get(node).get(input)` lists one partial per
 * use of `input` by `node`.
 */
export function localPartials(rows: readonly TapeRow[]): Map<string, Map<string, number[]>> {
  const partials = new Map<string, Map<string, number[]>>();
  for (const row of rows) {
    for (const term of row.terms) {
      if (term.partial === undefined) continue;
      const byInput = partials.get(term.from) ?? new Map<string, number[]>();
      partials.set(term.from, byInput);
      byInput.set(row.node, [...(byInput.get(row.node) ?? []), term.partial]);
    }
  }
  return partials;
}

/**
 * The tangent of `row` along direction `k` as the chain rule computes it from its inputs'
 * tangents, `ȧ = ∂a/∂x·ẋ + ∂a/∂y·ẏ = 1·1 + 1·0` (constants, whose tangent is 0, left out). Where
 * the tape gives no local partial (a zero adjoint, a comparison) the numbers are the JVP's result.
 */
export function tangentSum(
  row: ForwardRow,
  k: number,
  rows: readonly ForwardRow[],
  partials: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>,
): ChainRuleSum {
  if (row.op === "input") return { symbolic: `seed: ${row.node}${DOT}`, numeric: cellText(row.tangents[k]!) };
  const byName = new Map(rows.map((r) => [r.node, r]));
  const symbols: string[] = [];
  const numbers: string[] = [];
  let complete = true;
  // one term per distinct input: x·x has ∂f/∂x = 2x, the uses summed (as the tape records them)
  for (const input of new Set(row.inputs)) {
    const source = byName.get(input);
    if (source === undefined) continue; // a constant: tangent 0
    symbols.push(`∂${row.node}/∂${input}·${input}${DOT}`);
    const uses = partials.get(row.node)?.get(input);
    const tangent = source.tangents[k];
    if (uses === undefined || typeof tangent !== "number") complete = false;
    else numbers.push(`${factor(uses.reduce((s, p) => s + p, 0))}·${factor(tangent)}`);
  }
  if (symbols.length === 0) return { symbolic: "0 (constant inputs only)", numeric: "0" };
  const numeric = complete ? numbers.join(" + ") : `${row.op}'s JVP at its inputs = ${cellText(row.tangents[k]!)}`;
  return { symbolic: symbols.join(" + "), numeric };
}
