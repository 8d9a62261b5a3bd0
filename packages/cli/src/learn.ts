/**
 * `@chainrule/cli/learn`: the browser-safe half of the CLI (no `node:` imports), what the
 * playground page is built from — the expression parser and compiler, the learner's forward and
 * reverse rows with their chain-rule sums, number formatting, Graphviz SVG and the JIT's source.
 */
export {
  parseExpression,
  variablesOf,
  caretExcerpt,
  ExpressionError,
  FUNCTIONS,
  MAX_DEPTH,
  type Expr,
  type FunctionName,
} from "./parse.js";
export { compileExpression, type CompiledExpression, type ExpressionFunction } from "./compile.js";
export {
  forwardRows,
  reverseRows,
  outputName,
  adjointSum,
  tangentSum,
  localPartials,
  type ForwardRow,
  type ChainRuleSum,
} from "./learner.js";
export { formatNumber } from "./format.js";
export { renderSvg } from "./svg.js";
export { generatedCode } from "./commands/codegen.js";
export type { TapeRow } from "@chainrule/reverse";
