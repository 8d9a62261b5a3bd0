import type { Tensor } from "@chainrule/ir";
import { jit, valueAndGrad } from "@chainrule/jit";
import { choice, expressionArgument, parsePoint, UsageError, type Command } from "../context.js";
import { formatNumber } from "../format.js";

const PARTS = ["both", "value", "grad"] as const;

/**
 * `text` as the body of one `//` comment line: any character that would end the comment (line
 * feed, carriage return, U+2028, U+2029) or is another control character is written as a \u escape.
 * (The parser already refuses line breaks in an expression; this holds for anything printed here.)
 */
export function commentText(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The JIT's generated JavaScript for `fn` (value) and for its value and gradient, compiled at `point`. */
export function generatedCode(
  fn: (...args: Tensor[]) => Tensor,
  point: readonly number[],
): { value: string; valueAndGrad: string; results: { value: number; gradient: number[] } } {
  const compiledValue = jit(fn);
  compiledValue(...point);
  const argnums = point.map((_, i) => i);
  const compiledGrad = valueAndGrad(fn, argnums) as unknown as ((...args: number[]) => [number, number[]]) & { source: string | undefined };
  const [value, gradient] = compiledGrad(...point);
  return {
    value: compiledValue.source ?? "",
    valueAndGrad: compiledGrad.source ?? "",
    results: { value: Number(value), gradient: gradient.map(Number) },
  };
}

export const codegenCommand: Command = {
  name: "codegen",
  summary: "print the JavaScript the JIT generates for the value and for value + gradient",
  usage: "chainrule codegen EXPR [--part both|value|grad] [--at x=3,y=2]",
  options: {
    part: { type: "string", short: "p", value: "PART", description: "both (default), value (f only) or grad (f and its gradient)" },
    at: {
      type: "string",
      multiple: true,
      value: "x=3,y=2",
      description: "also run the compiled code at this point and print the numbers (default: compile at 1, 1, …)",
    },
  },
  examples: ['chainrule codegen "(x + y) * (x - y)"', 'chainrule codegen "x * sin(y)" --part grad --at x=3,y=2'],
  details:
    "The JIT traces the expression to a graph, differentiates the graph, optimizes it and emits\n" +
    "JavaScript; inputs are x0, x1, … in the order of the variables.",
  async run(context) {
    const part = choice("codegen", "part", context.values["part"], PARTS, "both");
    const expression = expressionArgument(context, "codegen");
    if (expression.variables.length === 0) throw new UsageError("codegen: expected an expression with at least one variable");
    const given = parsePoint("codegen", context.values["at"] as string[] | undefined, expression.variables, false);
    const point = given ?? expression.variables.map(() => 1);
    const code = generatedCode(expression.fn as (...args: Tensor[]) => Tensor, point);
    const { style } = context;
    const print = (line?: string): void => context.print(line);
    const comment = (text: string): void => print(style.dim(`// ${commentText(text)}`));
    const inputs = expression.variables.map((v, i) => `x${i} = ${v}`).join(", ");
    print(style.bold(`// ${commentText(`f(${expression.variables.join(", ")}) = ${expression.source}`)}`));
    comment(`inputs: ${inputs}`);
    if (part !== "grad") {
      print();
      comment("value: returns [f]");
      print(code.value);
    }
    if (part !== "value") {
      print();
      comment(`value and gradient: returns [f, ${expression.variables.map((v) => `∂f/∂${v}`).join(", ")}]`);
      print(code.valueAndGrad);
    }
    if (given) {
      print();
      const at = expression.variables.map((v, i) => `${v} = ${formatNumber(point[i]!)}`).join(", ");
      const grads = expression.variables.map((v, i) => `∂f/∂${v} = ${formatNumber(code.results.gradient[i]!)}`).join(", ");
      comment(`at ${at}: f = ${formatNumber(code.results.value)}, ${grads}`);
    }
  },
};
