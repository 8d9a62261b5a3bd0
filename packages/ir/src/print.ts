/** Graph printing: readable text, Graphviz DOT, Mermaid, and an ASCII tree for small graphs. */
import { SHORT_DTYPE } from "./dtype.js";
import { ArgumentError, checkArity, describeValue } from "./errors.js";
import { checkGraphOnce, type Graph, type GraphValue } from "./graph.js";
import { MAX_DEPTH } from "./limits.js";
import { checkOptions } from "./options.js";
import { formatShape } from "./shape.js";
import type { Params } from "./primitives.js";
import { controlCall } from "./primitives/control.js";

function typeOf(v: GraphValue): string {
  return `${SHORT_DTYPE[v.dtype]}${formatShape(v.shape)}`;
}

/** Printable names: inputs by their name (or x0, x1, …), constants c{id}, nodes v{id}. */
export const valueNames = checkArity("valueNames", 1, 1, (graph: Graph): Map<number, string> => {
  checkGraphOnce("valueNames", graph);
  return valueNamesOf(graph);
});

function valueNamesOf(graph: Graph): Map<number, string> {
  const names = new Map<number, string>();
  graph.inputs.forEach((input, i) => names.set(input.id, input.name ?? `x${i}`));
  for (const c of graph.constants) names.set(c.id, `c${c.id}`);
  for (const n of graph.nodes) names.set(n.id, `v${n.id}`);
  return names;
}

function formatParams(params: object): string {
  const entries = Object.entries(params);
  if (entries.length === 0) return "";
  return ` {${entries.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")}}`;
}

function constantText(graph: Graph, id: number): string {
  const c = graph.constants.find((k) => k.id === id)!;
  return c.value.size === 1 ? String(c.value.data[0]) : `${typeOf(c)} constant`;
}

/**
 * One line per node with its type:
 * ```
 * graph(x: f64[], y: f64[]) {
 *   v2: f64[] = add(x, y)
 *   …
 *   return v4
 * }
 * ```
 */
export const graphToText = checkArity("graphToText", 1, 1, (graph: Graph): string => {
  checkGraphOnce("graphToText", graph);
  const names = valueNamesOf(graph);
  const lines: string[] = [];
  lines.push(`graph(${graph.inputs.map((i) => `${names.get(i.id)}: ${typeOf(i)}`).join(", ")}) {`);
  for (const c of graph.constants)
    lines.push(`  ${names.get(c.id)}: ${typeOf(c)} = ${c.value.size === 1 ? String(c.value.data[0]) : "constant"}`);
  for (const n of graph.nodes) {
    const note = n.op === "control" ? controlNote(n.params as Params<"control">) : "";
    lines.push(
      `  ${names.get(n.id)}: ${typeOf(n)} = ${n.op}(${n.inputs.map((i) => names.get(i)).join(", ")})${formatParams(n.params)}${note}`,
    );
  }
  lines.push(`  return ${graph.outputs.map((o) => names.get(o)).join(", ")}`);
  lines.push("}");
  return lines.join("\n");
});

/** What a control-flow node runs (issue 19): its sub-graphs are not printed, their kind and size are. */
function controlNote({ call }: Params<"control">): string {
  const c = controlCall(call);
  const size = (g: { nodes: readonly unknown[] }) => `${g.nodes.length} nodes`;
  if (c.kind === "cond") return `  // cond of ${c.branches.length} branches (${c.branches.map(size).join(", ")})`;
  if (c.kind === "scan") return `  // ${c.reverse ? "reversed " : ""}loop of ${c.length} steps (body: ${size(c.body)})`;
  return `  // while loop (condition: ${size(c.cond)}, body: ${size(c.body)})`;
}

function escapeLabel(text: string): string {
  return text.replace(/["\\]/g, (c) => `\\${c}`);
}

/** Options of `graphToDot` and `graphToMermaid`. */
export interface GraphDrawOptions {
  /**
   * Extra text for the label of the value with graph id `id` (an input, constant or node), shown
   * on its own line(s) under the usual label; a `\n` in it starts a new line. `undefined` or `""`
   * adds nothing. The CLI's `graph --at` passes each value's number and adjoint at a point.
   */
  readonly annotate?: (id: number) => string | undefined;
}

/** Options of `graphToDot`. */
export interface DotOptions extends GraphDrawOptions {
  /** The digraph's name (default `"graph"`). */
  readonly title?: string;
}

/** The `annotate` option checked to be a function (or absent). */
function annotation(op: string, options: Record<string, unknown>): ((id: number) => string | undefined) | undefined {
  const annotate = options["annotate"];
  if (annotate !== undefined && typeof annotate !== "function") {
    throw new ArgumentError(`${op}: expected options.annotate to be a function, got ${describeValue(annotate)}`);
  }
  if (annotate === undefined) return undefined;
  return (id) => {
    const text: unknown = (annotate as (id: number) => unknown)(id);
    if (text !== undefined && typeof text !== "string") {
      throw new ArgumentError(`${op}: expected options.annotate to return a string or undefined, got ${describeValue(text)}`);
    }
    return text;
  };
}

/** Graphviz DOT: inputs and constants as ellipses, ops as boxes, edges in data-flow direction. */
export const graphToDot = checkArity("graphToDot", 1, 2, (graph: Graph, options?: DotOptions): string => {
  checkGraphOnce("graphToDot", graph);
  const checked = checkOptions("graphToDot", options, ["annotate", "title"]);
  const annotate = annotation("graphToDot", checked);
  const title = checked["title"] ?? "graph";
  if (typeof title !== "string") throw new ArgumentError(`graphToDot: expected options.title to be a string, got ${describeValue(title)}`);
  const names = valueNamesOf(graph);
  // "\\n" is DOT's line break inside a label
  const label = (id: number, base: string) => {
    const extra = annotate?.(id);
    return escapeLabel(extra ? `${base}\n${extra}` : base).replace(/\n/g, "\\n");
  };
  const lines = [`digraph ${JSON.stringify(title)} {`, "  rankdir=LR;", '  node [fontname="Helvetica"];'];
  for (const i of graph.inputs) lines.push(`  n${i.id} [label="${label(i.id, `${names.get(i.id)}: ${typeOf(i)}`)}", shape=ellipse];`);
  for (const c of graph.constants)
    lines.push(`  n${c.id} [label="${label(c.id, constantText(graph, c.id))}", shape=ellipse, style=dashed];`);
  for (const n of graph.nodes) {
    lines.push(`  n${n.id} [label="${label(n.id, `${names.get(n.id)} = ${n.op}${formatParams(n.params)}\n${typeOf(n)}`)}", shape=box];`);
    for (const i of n.inputs) lines.push(`  n${i} -> n${n.id};`);
  }
  graph.outputs.forEach((o, k) => {
    lines.push(`  out${k} [label="output ${k}", shape=plaintext];`);
    lines.push(`  n${o} -> out${k};`);
  });
  lines.push("}");
  return lines.join("\n");
});

/** Mermaid flowchart (left to right); annotation lines joined with `<br/>`. */
export const graphToMermaid = checkArity("graphToMermaid", 1, 2, (graph: Graph, options?: GraphDrawOptions): string => {
  checkGraphOnce("graphToMermaid", graph);
  const annotate = annotation("graphToMermaid", checkOptions("graphToMermaid", options, ["annotate"]));
  const names = valueNamesOf(graph);
  const quote = (s: string) => `"${s.replace(/"/g, "#quot;").replace(/\n/g, "<br/>")}"`;
  const label = (id: number, base: string) => {
    const extra = annotate?.(id);
    return quote(extra ? `${base}\n${extra}` : base);
  };
  const lines = ["flowchart LR"];
  for (const i of graph.inputs) lines.push(`  n${i.id}([${label(i.id, `${names.get(i.id)}: ${typeOf(i)}`)}])`);
  for (const c of graph.constants) lines.push(`  n${c.id}([${label(c.id, constantText(graph, c.id))}])`);
  for (const n of graph.nodes) {
    lines.push(`  n${n.id}[${label(n.id, `${names.get(n.id)} = ${n.op}`)}]`);
    for (const i of n.inputs) lines.push(`  n${i} --> n${n.id}`);
  }
  graph.outputs.forEach((o, k) => {
    lines.push(`  out${k}((${quote(`out ${k}`)}))`);
    lines.push(`  n${o} --> out${k}`);
  });
  return lines.join("\n");
});

/**
 * An ASCII drawing of the graph as an expression tree rooted at each output, e.g. for (x+y)(x−y):
 * ```
 * v4 = mul
 * ├── v2 = add
 * │   ├── x
 * │   └── y
 * └── v3 = sub
 *     ├── x
 *     └── y
 * ```
 * A node already drawn is shown again as `v2 (above)` rather than expanded twice. Drawn with an
 * explicit stack, so a long chain of nodes (a traced loop) cannot overflow the call stack.
 */
export const graphToAscii = checkArity("graphToAscii", 1, 2, (graph: Graph, labels?: (id: number) => string | undefined): string => {
  checkGraphOnce("graphToAscii", graph);
  if (labels !== undefined && typeof labels !== "function") {
    throw new ArgumentError(`graphToAscii: expected labels to be a function, got ${describeValue(labels)}`);
  }
  const names = valueNamesOf(graph);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const constants = new Set(graph.constants.map((c) => c.id));
  const drawn = new Set<number>();
  const lines: string[] = [];
  const label = (id: number): string => {
    const extra = labels?.(id);
    const node = byId.get(id);
    const base = node ? `${names.get(id)} = ${node.op}` : constants.has(id) ? constantText(graph, id) : names.get(id)!;
    return extra ? `${base}  ${extra}` : base;
  };
  // each entry draws one value: `prefix + connector + label`, then its inputs under `prefix + childPrefix`
  const pending: { id: number; prefix: string; connector: string; childPrefix: string; depth: number }[] = [];
  for (const o of graph.outputs) {
    pending.push({ id: o, prefix: "", connector: "", childPrefix: "", depth: 0 });
    while (pending.length > 0) {
      const { id, prefix, connector, childPrefix, depth } = pending.pop()!;
      // each level indents by four characters, so a drawing's size grows with the square of its depth
      if (depth > MAX_DEPTH) {
        throw new ArgumentError(
          `graphToAscii: expected a graph at most ${MAX_DEPTH} levels deep (MAX_DEPTH) to draw, ` +
            "got a deeper chain of nodes (use graphToText)",
        );
      }
      const node = byId.get(id);
      if (node && drawn.has(id)) {
        lines.push(`${prefix}${connector}${names.get(id)} (above)`);
        continue;
      }
      lines.push(`${prefix}${connector}${label(id)}`);
      if (!node) continue;
      drawn.add(id);
      // pushed last-first, so the first input is drawn next
      for (let i = node.inputs.length - 1; i >= 0; i--) {
        const last = i === node.inputs.length - 1;
        const child = { id: node.inputs[i]!, prefix: prefix + childPrefix, depth: depth + 1 };
        pending.push({ ...child, connector: last ? "└── " : "├── ", childPrefix: last ? "    " : "│   " });
      }
    }
  }
  return lines.join("\n");
});
