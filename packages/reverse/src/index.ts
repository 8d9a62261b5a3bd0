/**
 * @chainrule/reverse — reverse-mode automatic differentiation with a tape (Wengert list),
 * define-by-run, no `eval`. Implements the `Engine` interface of @chainrule/ir.
 */
export { engine, grad, valueAndGrad, jvp, vjp, jacobian, hessian, hvp } from "./engine.js";
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
// issue 18 (conv): convolution and pooling modules
export {
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  MaxPool2d,
  AvgPool2d,
  type ConvModuleOptions,
  type ConvTransposeModuleOptions,
  type PoolModuleOptions,
  type AvgPoolModuleOptions,
} from "./nn/index.js";
