/**
 * @chainrule/cli — the `chainrule` command (explain, graph, grad, codegen) and the pieces it is
 * made of, usable as a library: the expression parser and compiler, graph annotation, SVG rendering.
 */
export {
  parseExpression,
  variablesOf,
  formatExpression,
  caretExcerpt,
  ExpressionError,
  FUNCTIONS,
  MAX_DEPTH,
  type Expr,
  type FunctionName,
  type BinaryOperator,
} from "./parse.js";
export { compileExpression, type CompiledExpression, type ExpressionFunction } from "./compile.js";
export { expressionGraph, nodeNumbers, nodeAnnotations, asciiLabels, type NodeNumbers } from "./annotate.js";
export { renderSvg } from "./svg.js";
export { runCli, type CliIO } from "./cli.js";
