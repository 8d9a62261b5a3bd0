/**
 * @chainrule/optim — optimizers (torch.optim update rules), learning-rate schedules, gradient
 * clipping and a training loop (`minimize`) for any chainrule `Engine`.
 */
export type {
  Optimizer,
  OptimizerState,
  ElementwiseState,
  LearningRate,
  UpdateOptions,
  Evaluation,
  GradsOf,
  Objective,
  StepResult,
  Json,
} from "./optimizer.js";
export {
  sgd,
  adam,
  adamw,
  rmsprop,
  adagrad,
  type SgdOptions,
  type AdamOptions,
  type RmspropOptions,
  type AdagradOptions,
} from "./optimizers.js";
export { lbfgs, type LbfgsOptions, type LbfgsState } from "./lbfgs.js";
export {
  type Schedule,
  constant,
  stepDecay,
  exponential,
  cosineAnnealing,
  linearWarmup,
  oneCycle,
  join,
  product,
  scale,
  type OneCycleOptions,
} from "./schedules.js";
export { globalNorm, clipByGlobalNorm, clipByValue, withClipping, type ClipOptions } from "./clip.js";
export { minimize, type MinimizeOptions, type MinimizeResult, type StepInfo, type StopReason } from "./minimize.js";
export { renderProgress, formatLoss, type ProgressStream, type ProgressInfo } from "./progress.js";
export { treeToJSON, treeFromJSON } from "./serialize.js";
export {
  StatefulOptimizer,
  SGD,
  Adam,
  AdamW,
  RMSprop,
  Adagrad,
  LBFGS,
  type ParameterLike,
  type OptimizerStateDict,
  type Closure,
} from "./stateful.js";
