/**
 * The computational graph as Graphviz DOT, named like the tables (x, y, a, b, f), with each
 * node's value and tangent (forward) or adjoint (reverse), and edges labelled with the local
 * partial (forward) or the adjoint contribution of that use (reverse). Ids and classes in the DOT
 * become ids and classes in Graphviz's SVG, so stepping only toggles CSS classes: no re-layout.
 */
import { formatNumber, type ForwardRow } from "@chainrule/cli/learn";
import type { Analysis } from "./model.js";

export type Mode = "forward" | "reverse";

const cell = (v: number | string | object): string => (typeof v === "number" ? formatNumber(v) : String(v));

/** A DOT string literal. */
const quote = (text: string): string => `"${text.replace(/["\\]/g, (c) => `\\${c}`).replace(/\n/g, "\\n")}"`;

/** The DOT/SVG id of a node of the tables. */
export const nodeId = (name: string): string => `node-${name}`;

/** How many times each node is used as an input (a fan-out is more than once). */
export function useCounts(rows: readonly ForwardRow[]): Map<string, number> {
  const uses = new Map<string, number>();
  for (const row of rows) for (const input of row.inputs) uses.set(input, (uses.get(input) ?? 0) + 1);
  return uses;
}

/** The graph of `a` for `mode`, as DOT. */
export function graphDot(a: Analysis, mode: Mode): string {
  const rows = a.along ?? a.forward;
  const k = a.along !== undefined || a.seed.kind !== "variable" ? 0 : a.seed.index;
  const names = new Set(rows.map((r) => r.node));
  const adjoints = new Map(a.reverse.map((r) => [r.node, r.adjoint]));
  const contributions = new Map(a.reverse.flatMap((r) => r.terms.map((t) => [`${t.from}>${r.node}`, t.value] as const)));
  const uses = useCounts(rows);
  const lines = [
    "digraph playground {",
    "  rankdir=LR;",
    "  nodesep=0.3;",
    "  ranksep=0.45;",
    '  bgcolor="transparent";',
    '  node [fontname="Helvetica", fontsize=12, style=filled, fillcolor="#ffffff"];',
    '  edge [fontname="Helvetica", fontsize=10];',
  ];
  let constant = 0;
  for (const row of rows) {
    const derivative = mode === "forward" ? `tangent ${cell(row.tangents[k]!)}` : `adjoint ${cell(adjoints.get(row.node) ?? "—")}`;
    const head = row.op === "input" ? row.node : `${row.node} = ${row.op}`;
    const used = uses.get(row.node) ?? 0;
    const label = [head, `value ${cell(row.value)}`, derivative, ...(used > 1 ? [`used ${used}×`] : [])].join("\n");
    const classes = ["cr-node", used > 1 ? "fanout" : "", row.isOutput ? "output" : ""].filter(Boolean).join(" ");
    const shape = row.op === "input" ? "ellipse" : "box";
    const attributes = `id=${quote(nodeId(row.node))}, label=${quote(label)}, shape=${shape}, class=${quote(classes)}`;
    lines.push(`  ${quote(nodeId(row.node))} [${attributes}${row.isOutput ? ", penwidth=2" : ""}];`);
    row.inputs.forEach((input, j) => {
      let from = nodeId(input);
      if (!names.has(input)) {
        from = `const-${constant++}`;
        lines.push(`  ${quote(from)} [label=${quote(input)}, shape=plaintext, style="", class="cr-const"];`);
      }
      const edgeLabel = mode === "forward" ? forwardEdgeLabel(a, row.node, input) : reverseEdgeLabel(contributions, row.node, input);
      const edgeClass = `cr-edge from-${names.has(input) ? input : "const"} to-${row.node}`;
      const id = `edge-${input}-${row.node}-${j}`;
      lines.push(`  ${quote(from)} -> ${quote(nodeId(row.node))} [id=${quote(id)}, class=${quote(edgeClass)}, label=${quote(edgeLabel)}];`);
    });
  }
  lines.push("}");
  return lines.join("\n");
}

/** Forward: the local partial ∂node/∂input that multiplies the input's tangent. */
function forwardEdgeLabel(a: Analysis, node: string, input: string): string {
  const partial = a.partials.get(node)?.get(input);
  return partial === undefined ? "" : `∂${node}/∂${input} = ${formatNumber(partial.reduce((s, p) => s + p, 0))}`;
}

/** Reverse: this use's contribution to the input's adjoint, (node's adjoint)·∂node/∂input. */
function reverseEdgeLabel(contributions: ReadonlyMap<string, unknown>, node: string, input: string): string {
  const value = contributions.get(`${node}>${input}`);
  return value === undefined ? "" : `${input}\u0304 += ${cell(value as number)}`;
}
