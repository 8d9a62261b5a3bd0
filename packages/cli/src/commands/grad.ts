import type { Tensor } from "@chainrule/ir";
import { expressionArgument, parsePoint, UsageError, type Command } from "../context.js";
import { ENGINE_NAMES, ENGINES, type EngineName } from "../engines.js";
import { table } from "../format.js";

export interface EngineResult {
  readonly engine: EngineName;
  readonly value: number;
  readonly gradient: readonly number[];
}

const toNumber = (v: Tensor | number): number => (typeof v === "number" ? v : v.item());

/** Value and gradient of `fn` at `point` from each named engine. */
export function gradientsByEngine(
  fn: (...args: Tensor[]) => Tensor,
  point: readonly number[],
  engines: readonly EngineName[],
): EngineResult[] {
  return engines.map((name) => {
    const engine = ENGINES[name]!;
    const argnums = point.map((_, i) => i);
    const [value, grads] = engine.valueAndGrad(fn, argnums)(...point);
    return { engine: name, value: toNumber(value), gradient: grads.map(toNumber) };
  });
}

/** Largest absolute difference between two engines in the value or any gradient entry (NaN-aware: NaN vs number is ∞). */
export function largestDisagreement(results: readonly EngineResult[]): number {
  let worst = 0;
  const diff = (a: number, b: number) =>
    Number.isNaN(a) && Number.isNaN(b) ? 0 : a === b ? 0 : Number.isNaN(a - b) ? Infinity : Math.abs(a - b);
  for (const a of results) {
    for (const b of results) {
      worst = Math.max(worst, diff(a.value, b.value), ...a.gradient.map((g, i) => diff(g, b.gradient[i]!)));
    }
  }
  return worst;
}

export const gradCommand: Command = {
  name: "grad",
  summary: "value and gradient from every engine side by side, with the largest disagreement",
  usage: "chainrule grad EXPR --at x=3,y=2 [--engines forward,reverse,jit]",
  options: {
    at: { type: "string", multiple: true, value: "x=3,y=2", description: "the point (required): a value for every variable" },
    engines: {
      type: "string",
      value: "LIST",
      description: `comma-separated engines to compare (default: all — ${ENGINE_NAMES.join(", ")})`,
    },
  },
  examples: [
    'chainrule grad "(x + y) * (x - y)" --at x=3,y=2',
    'chainrule grad "log(1 + exp(a*b))" --at a=0.3,b=-2 --engines forward,reverse',
  ],
  details: "Numbers are printed in full (shortest round-trip form) so that rounding differences show.",
  async run(context) {
    const expression = expressionArgument(context, "grad");
    const point = parsePoint("grad", context.values["at"] as string[] | undefined, expression.variables, true)!;
    if (expression.variables.length === 0) throw new UsageError("grad: expected an expression with at least one variable");
    const raw = context.values["engines"];
    const names =
      typeof raw === "string"
        ? raw
            .split(",")
            .map((s) => s.trim())
            .filter((s) => s !== "")
        : ENGINE_NAMES.filter((n) => ENGINES[n]);
    for (const name of names) {
      if (!(ENGINE_NAMES as readonly string[]).includes(name))
        throw new UsageError(`grad: expected --engines from ${ENGINE_NAMES.join(", ")}, got ${JSON.stringify(name)}`);
      if (!ENGINES[name as EngineName]) throw new UsageError(`grad: the ${name} engine is not available in this build`);
    }
    if (names.length === 0) throw new UsageError("grad: expected at least one engine in --engines");
    const results = gradientsByEngine(expression.fn as (...args: Tensor[]) => Tensor, point, names as EngineName[]);
    const { style, print } = context;
    const at = expression.variables.map((v, i) => `${v} = ${point[i]}`).join(", ");
    print(`${style.bold(`f(${expression.variables.join(", ")}) = ${expression.source}`)}   at ${at}`);
    print();
    const header = ["engine", "f", ...expression.variables.map((v) => `∂f/∂${v}`)];
    const rows = results.map((r) => [style.cyan(r.engine), String(r.value), ...r.gradient.map(String)]);
    print(table(header, rows, ["left", "right", ...expression.variables.map(() => "right" as const)], style));
    print();
    const worst = largestDisagreement(results);
    const verdict =
      worst === 0
        ? style.green("identical")
        : worst <= 1e-12 * Math.max(1, ...results.flatMap((r) => [Math.abs(r.value), ...r.gradient.map(Math.abs)]))
          ? style.green("agree to rounding")
          : style.red("DISAGREE");
    print(`largest disagreement between engines: ${worst} (${verdict})`);
  },
};
