/**
 * The learner's trace: the recorded tape as rows (node, op, inputs, value, adjoint, and the
 * chain-rule terms that made the adjoint), enough to print the backward-pass table of the seed:
 *
 *   node  op     inputs  value  adjoint  terms
 *   x     input          3      6        a: 1, b: 5
 *   y     input          2      -4       a: 1, b: -5
 *   a     add    x, y    5      1        f: 1
 *   b     sub    x, y    1      5        f: 5
 *   f     mul    a, b    5      1        (seed)
 */
import { describeValue, ArgumentError, isFloat, scalar, Tensor, withTrace, zeros } from "@chainrule/ir";
import { detach } from "./arith.js";
import { makeTrace, outputSlot, primalOf, type ReverseTrace } from "./tape.js";

/** One row of the tape. Values are JS numbers for scalars, Tensors otherwise. */
export interface TapeRow {
  /** The node's name: inputs x, y, z, …; intermediate values a, b, c, …; the output f. */
  readonly node: string;
  /** "input", a primitive name, or "customVjp"/"customJvp". */
  readonly op: string;
  /** Names of the operands (constants are shown by value, or as "const"). */
  readonly inputs: readonly string[];
  readonly value: number | Tensor;
  /** ∂f/∂node; 0 (or zeros) when the output does not depend on the node. */
  readonly adjoint: number | Tensor;
  /**
   * The chain-rule contributions summed into the adjoint, in tape order of the node they came
   * from: `value` = (that node's adjoint) · `partial`, where `partial` is the local derivative
   * ∂from/∂node (given for scalars whose source adjoint is non-zero).
   */
  readonly terms: readonly TapeTerm[];
  /** True for the output row, whose adjoint is the seed 1. */
  readonly isOutput: boolean;
}

export interface TapeTerm {
  readonly from: string;
  readonly value: number | Tensor;
  readonly partial?: number;
}

export interface TraceOptions {
  /** Names of the inputs (default x, y, z, w; x0, x1, … beyond four). */
  readonly inputNames?: readonly string[];
  /** Name of the output (default f). */
  readonly outputName?: string;
}

const NODE_LETTERS = "abcdeghklmnpqrstuv";

function show(t: Tensor): number | Tensor {
  return t.shape.length === 0 ? t.data[0]! : detach(t);
}

function constantName(t: Tensor | undefined): string {
  return t !== undefined && t.shape.length === 0 ? String(t.data[0]) : "const";
}

/**
 * Runs `f` on `args` (numbers or float Tensors, all differentiated), records its tape, sweeps it
 * backward from the scalar output and returns one row per input and per recorded node.
 */
export function traceBackward(f: (...args: Tensor[]) => Tensor, ...args: (number | Tensor)[]): TapeRow[] {
  return tapeRows(f, args);
}

/** `traceBackward` with names. */
export function tapeRows(f: (...args: Tensor[]) => Tensor, args: readonly (number | Tensor)[], options: TraceOptions = {}): TapeRow[] {
  if (typeof f !== "function") throw new ArgumentError(`traceBackward: expected a function, got ${describeValue(f)}`);
  const inputs = args.map((a, i) => {
    if (typeof a === "number") return scalar(a);
    if (a instanceof Tensor && isFloat(a.dtype)) return a;
    throw new ArgumentError(`traceBackward: expected numbers or float Tensors as arguments, got ${describeValue(a)} at args[${i}]`);
  });
  let result: unknown;
  const trace: ReverseTrace = withTrace(makeTrace, (t) => {
    t.keepAll = true;
    result = f(...inputs.map((x) => t.input(x)));
    return t;
  });
  if (!(result instanceof Tensor) || result.shape.length !== 0) {
    throw new ArgumentError(`traceBackward: expected f to return a scalar Tensor, got ${describeValue(result)}`);
  }
  const out = outputSlot(trace, result);
  const outValue = primalOf(trace, result);

  const names: string[] = new Array<string>(trace.slots);
  const inputNames = options.inputNames ?? (inputs.length <= 4 ? ["x", "y", "z", "w"] : inputs.map((_, i) => `x${i}`));
  inputs.forEach((_, i) => (names[i] = inputNames[i] ?? `x${i}`));
  let letter = 0;
  for (const node of trace.nodes) {
    names[node.out] = node.out === out ? (options.outputName ?? "f") : (NODE_LETTERS[letter++] ?? `v${node.out}`);
  }

  const raw: { from: number; term: Tensor }[][] = names.map(() => []);
  const all = names.map((_, i) => i);
  const adjoints = trace.backward([out], [scalar(1, outValue.dtype)], all, (from, to, term) => raw[to]!.push({ from, term }), true);
  const terms: TapeTerm[][] = raw.map((list) =>
    list
      .sort((p, q) => p.from - q.from)
      .map(({ from, term }) => {
        const source = adjoints[from];
        const scalarSource = source !== undefined && source.shape.length === 0 && term.shape.length === 0 && source.data[0] !== 0;
        return scalarSource
          ? { from: names[from]!, value: show(term), partial: term.data[0]! / source.data[0]! }
          : { from: names[from]!, value: show(term) };
      }),
  );
  const adjointOf = (slot: number, like: Tensor): number | Tensor => {
    const a = adjoints[slot];
    return a !== undefined ? show(a) : show(zeros(like.shape as number[], like.dtype));
  };

  const rows: TapeRow[] = inputs.map((x, i) => ({
    node: names[i]!,
    op: "input",
    inputs: [],
    value: show(x),
    adjoint: adjointOf(i, x),
    terms: terms[i]!,
    isOutput: i === out,
  }));
  for (const node of trace.nodes) {
    const value = node.y!;
    rows.push({
      node: names[node.out]!,
      op: node.op,
      inputs: node.ids.map((id, i) => (id >= 0 ? names[id]! : constantName(node.x[i]))),
      value: show(value),
      adjoint: adjointOf(node.out, value),
      terms: terms[node.out]!,
      isOutput: node.out === out,
    });
  }
  return rows;
}

/** The rows as a plain-text table (one line per row). */
export function formatTape(rows: readonly TapeRow[]): string {
  const cell = (v: number | Tensor) => (typeof v === "number" ? String(v) : v.toString());
  const table = [
    ["node", "op", "inputs", "value", "adjoint", "terms"],
    ...rows.map((r) => [
      r.node,
      r.op,
      r.inputs.join(", "),
      cell(r.value),
      cell(r.adjoint),
      r.terms.length === 0 ? (r.isOutput ? "(seed)" : "") : r.terms.map((t) => `${t.from}: ${cell(t.value)}`).join(", "),
    ]),
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  return table
    .map((row) =>
      row
        .map((v, c) => v.padEnd(widths[c]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
