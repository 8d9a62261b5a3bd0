/**
 * @chainrule/reverse — reverse-mode automatic differentiation with a tape (Wengert list),
 * define-by-run, no `eval`. Implements the `Engine` interface of @chainrule/ir.
 */
export { engine, grad, valueAndGrad, jvp, vjp, jacobian, hessian, hvp, jacfwd, jacrev, linearize, checkpoint } from "./engine.js";
// vmap (issue 19): ir's batching trace, which composes with this engine's transformations
export { vmap, vmapFallbacks, type VmapOptions, type AxisSpec } from "@chainrule/ir";
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
// issue 18 (nn): buffers, normalization, dropout, embedding, flatten, activations and initialisers (namespace `init`)
export {
  Buffer,
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  Dropout,
  Embedding,
  Flatten,
  GELU,
  SiLU,
  init,
  type BatchNormOptions,
  type LayerNormOptions,
  type Nonlinearity,
  type FanMode,
} from "./nn/index.js";
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
