import { graphToAscii, graphToDot, graphToMermaid, graphToText, valueNames } from "@chainrule/ir";
import { asciiLabels, expressionGraph, nodeAnnotations, nodeNumbers, type NodeNumbers } from "../annotate.js";
import { choice, expressionArgument, parsePoint, UsageError, writeOutput, type Command } from "../context.js";
import { adjointEngine } from "../engines.js";
import { formatNumber, makeStyle, table } from "../format.js";
import { renderSvg } from "../svg.js";
import type { Graph } from "@chainrule/ir";
import type { Style } from "../format.js";

const FORMATS = ["text", "dot", "mermaid", "svg", "ascii"] as const;
type Format = (typeof FORMATS)[number];

function numbersTable(graph: Graph, numbers: NodeNumbers, style: Style): string {
  const names = valueNames(graph);
  const rows: string[][] = [];
  const add = (id: number, op: string) => {
    const adjoint = numbers.adjoints?.get(id);
    rows.push([style.cyan(names.get(id)!), op, formatNumber(numbers.values.get(id)!), adjoint === undefined ? "" : formatNumber(adjoint)]);
  };
  for (const i of graph.inputs) add(i.id, "input");
  for (const c of graph.constants) add(c.id, "constant");
  for (const n of graph.nodes) add(n.id, n.op);
  return table(["name", "op", "value", "adjoint ∂out/∂value"], rows, ["left", "left", "right", "right"], style);
}

export const graphCommand: Command = {
  name: "graph",
  summary: "draw the computational graph of an expression (text, DOT, Mermaid, SVG, ASCII)",
  usage: "chainrule graph EXPR [--format text|dot|mermaid|svg|ascii] [--at x=3,y=2] [-o FILE]",
  options: {
    format: {
      type: "string",
      short: "f",
      value: "FORMAT",
      description: "text (default), dot, mermaid, svg (Graphviz in WebAssembly) or ascii",
    },
    at: {
      type: "string",
      multiple: true,
      value: "x=3,y=2",
      description: "annotate every node with its value and its adjoint ∂out/∂node at this point",
    },
    output: { type: "string", short: "o", value: "FILE", description: "write to FILE instead of standard output" },
  },
  examples: [
    'chainrule graph "(x + y) * (x - y)"',
    'chainrule graph "(x + y) * (x - y)" --format ascii --at x=3,y=2',
    'chainrule graph "(x + y) * (x - y)" --format svg --at x=3,y=2 -o graph.svg',
    'chainrule graph "sigmoid(w*x + b)" --format mermaid',
  ],
  details: "Composite functions (tan, relu, sigmoid) appear as the primitives they are built from.",
  async run(context) {
    const format: Format = choice("graph", "format", context.values["format"], FORMATS, "text");
    const expression = expressionArgument(context, "graph");
    const point = parsePoint("graph", context.values["at"] as string[] | undefined, expression.variables, false);
    const graph = expressionGraph(expression);
    const numbers = point ? nodeNumbers(graph, point, adjointEngine()) : undefined;
    const toFile = typeof context.values["output"] === "string";
    const style = toFile ? makeStyle(false) : context.style;
    const title = expression.source;
    const annotated = numbers ? { annotate: nodeAnnotations(graph, numbers) } : {};
    let output: string;
    switch (format) {
      case "text":
        output = graphToText(graph) + (numbers ? `\n\n${numbersTable(graph, numbers, style)}` : "");
        break;
      case "ascii":
        output = graphToAscii(graph, numbers ? asciiLabels(numbers) : undefined);
        break;
      case "dot":
        output = graphToDot(graph, { title, ...annotated });
        break;
      case "mermaid":
        output = graphToMermaid(graph, annotated);
        break;
      case "svg":
        output = await renderSvg(graphToDot(graph, { title, ...annotated }));
        break;
    }
    const file = context.values["output"];
    if (typeof file === "string") {
      if (file === "") throw new UsageError("graph: expected a file name after -o");
      writeOutput(context, "graph", "-o", file, output.endsWith("\n") ? output : `${output}\n`);
      context.io.stderr(`wrote ${format} graph to ${file}\n`);
    } else {
      context.print(output);
    }
  },
};
