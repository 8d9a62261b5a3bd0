/**
 * The two learner's traces, from the engines themselves: forward's `traceForward` (values and
 * tangents per direction) and reverse's `tapeRows` (values, adjoints, chain-rule terms), with
 * the forward rows renamed to reverse's names (inputs by variable, intermediates a, b, …, the
 * output f; constants shown by value) so that both tables speak of the same nodes.
 */
import { traceForward, type ForwardStep } from "@chainrule/forward";
import { tapeRows, type TapeRow } from "@chainrule/reverse";
import type { NestedArray, Tensor } from "@chainrule/ir";

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

/** The forward-mode rows, one direction per variable, named like `reverseRows`. */
export function forwardRows(fn: Fn, point: readonly number[], variables: readonly string[], reverse?: readonly TapeRow[]): ForwardRow[] {
  const placeholders = variables.map((_, i) => `#${i}`);
  const trace = traceForward(
    fn as (...args: never[]) => unknown,
    point,
    variables.map((_, i) => i),
    { names: placeholders },
  );
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
