/**
 * Graphs of an expression, and the same graphs annotated with each value's number and adjoint
 * (∂output/∂value) at a point.
 */
import { add, bind, scalar, traceWith, valueNames, zeros } from "@chainrule/ir";
import type { Engine, Graph, Tensor } from "@chainrule/ir";
import type { CompiledExpression } from "./compile.js";
import { formatNumber } from "./format.js";

/** The graph of a compiled expression, inputs named after its variables (traced at zeros: shapes only). */
export function expressionGraph(expression: CompiledExpression): Graph {
  return traceWith({ names: expression.variables, name: "chainrule graph" }, expression.fn as (...a: never[]) => unknown, ...expression.variables.map(() => 0));
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
  for (const node of graph.nodes) env.set(node.id, bind(node.op, node.inputs.map((id) => env.get(id)!), node.params));
  for (const [id, t] of env) values.set(id, t.size === 1 ? t.item() : Number.NaN);
  if (!engine) return { values };

  const probed = [...graph.inputs.map((i) => i.id), ...graph.nodes.map((n) => n.id)];
  const withProbes = (...probes: Tensor[]): Tensor => {
    const e = new Map<number, Tensor>();
    graph.inputs.forEach((input, i) => e.set(input.id, add(inputs[i]!, probes[i]!)));
    for (const c of graph.constants) e.set(c.id, c.value);
    graph.nodes.forEach((node, k) => {
      const out = bind(node.op, node.inputs.map((id) => e.get(id)!), node.params);
      e.set(node.id, add(out, probes[graph.inputs.length + k]!));
    });
    return e.get(graph.outputs[0]!)!;
  };
  const argnums = probed.map((_, i) => i);
  const zeroProbes = probed.map(() => zeros([]));
  const grads = engine.grad(withProbes, argnums)(...zeroProbes) as unknown as Tensor[];
  const adjoints = new Map<number, number>();
  probed.forEach((id, i) => adjoints.set(id, toNumber(grads[i]!)));
  return { values, adjoints };
}

function toNumber(value: Tensor | number): number {
  return typeof value === "number" ? value : value.item();
}

function annotation(numbers: NodeNumbers | undefined, id: number): string | undefined {
  if (!numbers) return undefined;
  const value = numbers.values.get(id);
  const adjoint = numbers.adjoints?.get(id);
  const parts: string[] = [];
  if (value !== undefined) parts.push(`value ${formatNumber(value)}`);
  if (adjoint !== undefined) parts.push(`adjoint ${formatNumber(adjoint)}`);
  return parts.length > 0 ? parts.join(", ") : undefined;
}

function constantLabel(graph: Graph, id: number): string {
  const c = graph.constants.find((k) => k.id === id)!;
  return c.value.size === 1 ? formatNumber(c.value.data[0]!) : `constant ${c.value.describe()}`;
}

/** A DOT string body: quotes and backslashes escaped, line breaks as DOT's `\\n` escape. */
const escapeDot = (text: string) => text.replace(/["\\]/g, (c) => `\\${c}`).replace(/\n/g, "\\n");

/** Graphviz DOT with each value's number and adjoint in its label (adjoints on the edges' targets). */
export function annotatedDot(graph: Graph, numbers: NodeNumbers, title = "graph"): string {
  const names = valueNames(graph);
  const lines = [`digraph ${JSON.stringify(title)} {`, "  rankdir=LR;", '  node [fontname="Helvetica"];'];
  const label = (base: string, id: number) => {
    const extra = annotation(numbers, id);
    return escapeDot(extra ? `${base}\n${extra.replace(", ", "\n")}` : base);
  };
  for (const i of graph.inputs) lines.push(`  n${i.id} [label="${label(names.get(i.id)!, i.id)}", shape=ellipse];`);
  for (const c of graph.constants) lines.push(`  n${c.id} [label="${escapeDot(constantLabel(graph, c.id))}", shape=ellipse, style=dashed];`);
  for (const n of graph.nodes) {
    lines.push(`  n${n.id} [label="${label(`${names.get(n.id)} = ${n.op}`, n.id)}", shape=box];`);
    for (const i of n.inputs) lines.push(`  n${i} -> n${n.id};`);
  }
  graph.outputs.forEach((o, k) => {
    lines.push(`  out${k} [label="output ${k}", shape=plaintext];`);
    lines.push(`  n${o} -> out${k};`);
  });
  lines.push("}");
  return lines.join("\n");
}

/** Mermaid flowchart with numbers and adjoints in the node labels. */
export function annotatedMermaid(graph: Graph, numbers: NodeNumbers): string {
  const names = valueNames(graph);
  const quote = (s: string) => `"${s.replace(/"/g, "#quot;")}"`;
  const label = (base: string, id: number) => {
    const extra = annotation(numbers, id);
    return quote(extra ? `${base}<br/>${extra.replace(", ", "<br/>")}` : base);
  };
  const lines = ["flowchart LR"];
  for (const i of graph.inputs) lines.push(`  n${i.id}([${label(names.get(i.id)!, i.id)}])`);
  for (const c of graph.constants) lines.push(`  n${c.id}([${quote(constantLabel(graph, c.id))}])`);
  for (const n of graph.nodes) {
    lines.push(`  n${n.id}[${label(`${names.get(n.id)} = ${n.op}`, n.id)}]`);
    for (const i of n.inputs) lines.push(`  n${i} --> n${n.id}`);
  }
  graph.outputs.forEach((o, k) => {
    lines.push(`  out${k}((${quote(`out ${k}`)}))`);
    lines.push(`  n${o} --> out${k}`);
  });
  return lines.join("\n");
}

/** Labels for `graphToAscii`: `[value 5, adjoint 1]`. */
export function asciiLabels(numbers: NodeNumbers): (id: number) => string | undefined {
  return (id) => {
    const extra = annotation(numbers, id);
    return extra ? `[${extra}]` : undefined;
  };
}
