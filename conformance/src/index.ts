/**
 * @chainrule/conformance — the conformance and gradient-check suite for any object implementing
 * chainrule's `Engine`: `runConformance` (programmatic), `checkGrads` (JAX check_grads / torch
 * gradcheck) and `compareEngines` (cross-engine), with no test runner needed. The Vitest
 * registration (`describeConformance`, `describeComparison`) is `@chainrule/conformance/vitest`.
 */
export { checkGrads, finiteDifference, GradCheckError, type CheckGradsOptions, type CheckKind, type Mode } from "./checkgrads.js";
export { runConformance, allCases } from "./suite.js";
export type { Case, CaseResult, ConformanceOptions, ControlFlow, Context, Feature } from "./cases.js";
export { ConformanceError } from "./expect.js";
export {
  compareEngines,
  defaultComparisonCases,
  formatDisagreement,
  type CompareOptions,
  type ComparisonCase,
  type ComparisonReport,
  type Disagreement,
} from "./compare.js";
export {
  buildGraph,
  programArbitrary,
  programFunction,
  programInputs,
  checkGraph,
  UNITS,
  type Program,
  type Step,
  type Unit,
} from "./graphs.js";
export { CUSTOM_JVP_UNITS, CUSTOM_VJP_UNITS, WHERE_UNITS } from "./custom-units.js";
export { opRows, type OpRow } from "./optable.js";
