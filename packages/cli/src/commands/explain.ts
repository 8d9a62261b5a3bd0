import type { Tensor } from "@chainrule/ir";
import type { TapeRow } from "@chainrule/reverse";
import { choice, expressionArgument, parsePoint, type Command } from "../context.js";
import { adjointSum, forwardRows, reverseRows, type ForwardRow } from "../learner.js";
import { ENGINE_NAMES, ENGINES, type EngineName } from "../engines.js";
import { formatNumber, table, type Style } from "../format.js";

const MODES = ["both", "forward", "reverse"] as const;

function cell(value: number | Tensor | string): string {
  return typeof value === "number" ? formatNumber(value) : typeof value === "string" ? value : value.toString();
}

/** The forward-mode table: one row per value, with its tangent along each input direction. */
export function forwardTable(rows: readonly ForwardRow[], variables: readonly string[], style: Style): string {
  const header = ["node", "op", "inputs", "value", ...variables.map((v) => `tangent ∂/∂${v}`)];
  const body = rows.map((r) => [
    r.isOutput ? style.bold(style.cyan(r.node)) : style.cyan(r.node),
    r.op,
    r.inputs.join(", "),
    cell(r.value),
    ...r.tangents.map((t) => style.green(cell(t))),
  ]);
  return table(header, body, ["left", "left", "left", "right", ...variables.map(() => "right" as const)], style);
}

/** `b̄·∂b/∂y + ā·∂a/∂y = 5·(-1) + 1·1`: each use of a node contributes (user's adjoint)·(local derivative). */
function chainRuleTerms(row: TapeRow, adjoints: ReadonlyMap<string, number | Tensor>): string {
  if (row.isOutput) return "seed: ∂f/∂f = 1";
  const sum = adjointSum(row, adjoints);
  return row.terms.length === 0 ? sum.numeric : `${sum.symbolic} = ${sum.numeric}`;
}

/** The reverse-mode table, output first: each adjoint and the chain-rule terms summed into it. */
export function reverseTable(rows: readonly TapeRow[], style: Style): string {
  const adjoints = new Map(rows.map((r) => [r.node, r.adjoint]));
  const body = [...rows]
    .reverse()
    .map((r) => [
      r.isOutput ? style.bold(style.cyan(r.node)) : style.cyan(r.node),
      r.op,
      r.inputs.join(", "),
      cell(r.value),
      style.magenta(cell(r.adjoint)),
      style.dim(chainRuleTerms(r, adjoints)),
    ]);
  return table(
    ["node", "op", "inputs", "value", "adjoint ∂f/∂node", "= sum over its uses"],
    body,
    ["left", "left", "left", "right", "right", "left"],
    style,
  );
}

export const explainCommand: Command = {
  name: "explain",
  summary: "forward mode (values, tangents) and reverse mode (adjoints, chain-rule terms) step by step",
  usage: "chainrule explain EXPR --at x=3,y=2 [--mode both|forward|reverse] [--engine forward|reverse|jit]",
  options: {
    at: { type: "string", multiple: true, value: "x=3,y=2", description: "the point (required): a value for every variable" },
    mode: { type: "string", short: "m", value: "MODE", description: "both (default), forward (tangent table) or reverse (adjoint table)" },
    engine: {
      type: "string",
      short: "e",
      value: "ENGINE",
      description: "engine for the final gradient line: reverse (default), forward or jit",
    },
  },
  examples: [
    'chainrule explain "(x + y) * (x - y)" --at x=3,y=2',
    'chainrule explain "sin(x) * exp(y)" --at x=0.5,y=1 --mode reverse',
    'chainrule explain "x^2 + 3*x*y" --at x=1,y=2 --mode forward --engine jit',
  ],
  details: [
    "Forward mode carries a tangent (a directional derivative) beside every value, one per input",
    "direction (the engine runs them all in one vector-mode pass): the column for x is ∂value/∂x.",
    "Reverse mode records the values, then sweeps backward from the output: the adjoint of a value",
    "is ∂f/∂value, the sum of one chain-rule term per use of that value.",
  ].join("\n"),
  async run(context) {
    const mode = choice("explain", "mode", context.values["mode"], MODES, "both");
    const engineName: EngineName = choice("explain", "engine", context.values["engine"], ENGINE_NAMES, "reverse");
    const expression = expressionArgument(context, "explain");
    const point =
      parsePoint("explain", context.values["at"] as string[] | undefined, expression.variables, expression.variables.length > 0) ?? [];
    const { style, print } = context;
    const at = expression.variables.map((v, i) => `${v} = ${formatNumber(point[i]!)}`).join(", ");
    const fn = expression.fn as (...args: Tensor[]) => Tensor;
    print(`${style.bold(`f(${expression.variables.join(", ")}) = ${expression.source}`)}${at ? `   at ${at}` : ""}`);
    if (expression.variables.length === 0) {
      print(`f = ${formatNumber(toNumber(fn()))} (a constant: nothing to differentiate)`);
      return;
    }
    const backward = reverseRows(fn, point, expression.variables);
    if (mode !== "reverse") {
      print();
      print(style.bold("Forward mode") + style.dim(" (forward engine): each value carries its tangent, one column per input direction"));
      print(forwardTable(forwardRows(fn, point, expression.variables, backward), expression.variables, style));
    }
    if (mode !== "forward") {
      print();
      print(style.bold("Reverse mode") + style.dim(" (reverse engine): adjoints swept backward from the output, seed ∂f/∂f = 1"));
      print(reverseTable(backward, style));
    }
    const engine = ENGINES[engineName];
    if (!engine) throw new Error(`explain: the ${engineName} engine is not available in this build`);
    const [value, grads] = engine.valueAndGrad(
      fn,
      expression.variables.map((_, i) => i),
    )(...point) as unknown as [Tensor | number, (Tensor | number)[]];
    print();
    const parts = expression.variables.map((v, i) => `∂f/∂${v} = ${style.bold(formatNumber(toNumber(grads[i]!)))}`);
    print(
      `${style.bold("Gradient")} ${style.dim(`(${engineName} engine)`)}: f = ${style.bold(formatNumber(toNumber(value)))}, ` +
        `${parts.join(", ")}`,
    );
  },
};

function toNumber(value: Tensor | number): number {
  return typeof value === "number" ? value : value.item();
}
