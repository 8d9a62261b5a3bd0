/**
 * Graphs of an expression, and the same graphs annotated with each value's number and adjoint
 * (∂output/∂value) at a point.
 */
import { add, bind, scalar, traceWith, zeros } from "@chainrule/ir";
import type { Engine, Graph, Tensor } from "@chainrule/ir";
import type { CompiledExpression } from "./compile.js";
import { formatNumber } from "./format.js";

/** The graph of a compiled expression, inputs named after its variables (traced at zeros: shapes only). */
export function expressionGraph(expression: CompiledExpression): Graph {
  return traceWith(
    { names: expression.variables, name: "chainrule graph" },
    expression.fn as (...a: never[]) => unknown,
    ...expression.variables.map(() => 0),
  );
}

export interface NodeNumbers {
  /** Value of every input, constant and node, by graph id. */
  readonly values: Map<number, number>;
  /** ∂output/∂value for every input and node, by graph id (absent when no engine was given). */
  readonly adjoints?: Map<number, number>;
}

/**
 * Values of every graph value at `point`, and, given an engine, the adjoint of each (the gradient
 * of the output with respect to a zero "probe" added to that value, which any engine computes).
 */
export function nodeNumbers(graph: Graph, point: readonly number[], engine?: Engine): NodeNumbers {
  const inputs = point.map((v) => scalar(v));
  const values = new Map<number, number>();
  const env = new Map<number, Tensor>();
  graph.inputs.forEach((input, i) => env.set(input.id, inputs[i]!));
  for (const c of graph.constants) env.set(c.id, c.value);
  for (const node of graph.nodes)
    env.set(
      node.id,
      bind(
        node.op,
        node.inputs.map((id) => env.get(id)!),
        node.params,
      ),
    );
  for (const [id, t] of env) values.set(id, t.size === 1 ? t.item() : Number.NaN);
  if (!engine) return { values };

  const probed = [...graph.inputs.map((i) => i.id), ...graph.nodes.map((n) => n.id)];
  const withProbes = (...probes: Tensor[]): Tensor => {
    const e = new Map<number, Tensor>();
    graph.inputs.forEach((input, i) => e.set(input.id, add(inputs[i]!, probes[i]!)));
    for (const c of graph.constants) e.set(c.id, c.value);
    graph.nodes.forEach((node, k) => {
      const out = bind(
        node.op,
        node.inputs.map((id) => e.get(id)!),
        node.params,
      );
      e.set(node.id, add(out, probes[graph.inputs.length + k]!));
    });
    return e.get(graph.outputs[0]!)!;
  };
  const argnums = probed.map((_, i) => i);
  const zeroProbes = probed.map(() => zeros([]));
  const grads = engine.grad(withProbes, argnums)(...zeroProbes);
  const adjoints = new Map<number, number>();
  probed.forEach((id, i) => adjoints.set(id, toNumber(grads[i]!)));
  return { values, adjoints };
}

function toNumber(value: Tensor | number): number {
  return typeof value === "number" ? value : value.item();
}

/** `value 5\nadjoint 1` for the value with graph id `id` (adjoint only when one was computed). */
function annotation(numbers: NodeNumbers, id: number): string | undefined {
  const value = numbers.values.get(id);
  const adjoint = numbers.adjoints?.get(id);
  const parts: string[] = [];
  if (value !== undefined) parts.push(`value ${formatNumber(value)}`);
  if (adjoint !== undefined) parts.push(`adjoint ${formatNumber(adjoint)}`);
  return parts.length > 0 ? parts.join("\n") : undefined;
}

/**
 * `annotate` for ir's `graphToDot`/`graphToMermaid`: value and adjoint on lines of their own, for
 * inputs and nodes (a constant's label already shows its value).
 */
export function nodeAnnotations(graph: Graph, numbers: NodeNumbers): (id: number) => string | undefined {
  const constants = new Set(graph.constants.map((c) => c.id));
  return (id) => (constants.has(id) ? undefined : annotation(numbers, id));
}

/** Labels for `graphToAscii`: `[value 5, adjoint 1]`. */
export function asciiLabels(numbers: NodeNumbers): (id: number) => string | undefined {
  return (id) => {
    const extra = annotation(numbers, id);
    return extra ? `[${extra.replace("\n", ", ")}]` : undefined;
  };
}
