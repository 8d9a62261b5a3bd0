/** PyTorch-style imperative autograd on the reverse engine (see variable.ts and backward.ts). */
export {
  Variable,
  Parameter,
  variable,
  parameter,
  isVariable,
  noGrad,
  enableGrad,
  isGradEnabled,
  type VariableOptions,
  type GradHook,
  type HookHandle,
} from "./variable.js";
export { backward, gradients, type BackwardOptions, type GradientsOptions } from "./backward.js";
export { AutogradError, type AutogradReason } from "./errors.js";
