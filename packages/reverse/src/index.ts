/**
 * @chainrule/reverse — reverse-mode automatic differentiation with a tape (Wengert list),
 * define-by-run, no `eval`. Implements the `Engine` interface of @chainrule/ir.
 */
export { engine, grad, valueAndGrad, jvp, vjp, jacobian, hessian, hvp, jacfwd, jacrev, linearize, checkpoint } from "./engine.js";
export { traceBackward, tapeRows, formatTape, type TapeRow, type TraceOptions } from "./learn.js";
/** The VJP rules are ir's (`DEFINITIONS[prim].vjp`); their types are re-exported for compatibility. */
export type { VjpRule, VjpNode, Saves } from "@chainrule/ir";
export {
  Variable,
  Parameter,
  variable,
  parameter,
  isVariable,
  noGrad,
  enableGrad,
  isGradEnabled,
  backward,
  gradients,
  AutogradError,
  type AutogradReason,
  type VariableOptions,
  type GradHook,
  type HookHandle,
  type BackwardOptions,
  type GradientsOptions,
} from "./imperative/index.js";
export { Module, Linear, Sequential, Tanh, ReLU, Sigmoid, manualSeed, type LinearOptions } from "./nn/index.js";
