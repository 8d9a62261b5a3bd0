/**
 * @chainrule/ir — tensors, the primitive ops, graphs, tracing, eager evaluation, printing, JSON,
 * and the `Engine` interface that every chainrule engine implements.
 */
export { type DType, type TypedArray, DTYPES, publicIsFloat as isFloat, publicPromoteTypes as promoteTypes } from "./dtype.js";
export { MAX_ELEMENTS, MAX_DEPTH } from "./limits.js";
export {
  ChainruleError,
  ShapeError,
  DTypeError,
  ArgumentError,
  ConcretizationError,
  GraphError,
  NanError,
  DuplicateIrError,
  publicDescribeValue as describeValue,
  publicFormatValue as formatValue,
  CodeGenerationError,
  type ErrorCode,
} from "./errors.js";
export {
  type Shape,
  publicBroadcastShapes as broadcastShapes,
  publicSizeOf as sizeOf,
  publicFormatShape as formatShape,
  publicShapesEqual as shapesEqual,
  normalizeAxes,
  normalizeAxis,
  publicBroadcastedAxes as broadcastedAxes,
} from "./shape.js";
export {
  Tensor,
  tensor,
  scalar,
  zeros,
  ones,
  full,
  arange,
  linspace,
  eye,
  type NestedArray,
  type TensorOptions,
} from "./tensor.js";
export { Random, randomNormal, randomUniform } from "./random.js";
// family: random keys (issue 18, nn): the functional, jit-safe PRNG
export { random } from "./random-keys.js";
// family: normalization, dropout and embedding (issue 18, nn)
export {
  layerNorm,
  batchNorm,
  groupNorm,
  embedding,
  dropout,
  type LayerNormOptions,
  type BatchNormOptions,
  type BatchNormResult,
  type GroupNormOptions,
} from "./normalization.js";
export { THREEFRY_SOURCE } from "./primitives/random.js";
export {
  type Primitive,
  type PrimitiveParams,
  type Params,
  type PrimitiveTable,
  type Aval,
  type Empty,
  type UnaryPrimitive,
  type BinaryPrimitive,
  type ComparisonPrimitive,
  PRIMITIVES,
  UNARY_PRIMITIVES,
  BINARY_PRIMITIVES,
  COMPARISON_PRIMITIVES,
  ARITY,
  INDEX_CHECKS,
  type IndexCheck,
  isIndexCheck,
  isPrimitive,
} from "./primitives.js";
// Engine-author machinery, called by engines on every primitive with values they have checked:
// these trust their arguments (no argument-count or type checks on this hot path). Everything
// else exported here checks its argument count and arguments.
export { inferAval, evalPrimitive, indexCheckError, DEFINITIONS, definitionOf } from "./primitives.js";
export { internalError } from "./errors.js";
export { stridesOf, keepDims, inversePermutation } from "./shape.js";
export {
  type PrimitiveDef,
  type Definitions,
  type JvpRule,
  type VjpRule,
  type VjpNode,
  type Saves,
  type BatchRule,
  type Primals,
  type Partial,
  type Elementwise,
  type ShapeRule,
  type Kernel,
  type ParamKind,
  needsBit,
  needsInput,
  liftBatched,
  expandBatched,
  moveAxis,
  BatchingUnsupported,
} from "./primitives/define.js";
export {
  type Arith,
  type TensorMath,
  type TangentOps,
  NUMBER_MATH,
  ZERO_TIMES_INFINITY,
  mulNoNanScalar,
  plainFactor,
  times,
} from "./primitives/math.js";
export { TENSOR_MATH, tensorTangents, unbroadcast, swapLast } from "./primitives/tensor-math.js";
// eager fusion in the rules' arithmetic (forward mode's tangents)
export { FUSING_MATH } from "./primitives/fusing-math.js";
export { isScalarArith, scalarArith, type ScalarArith } from "./primitives/scalar-arith.js";
export { JS_EXPRESSIONS, hasExpression, type Expr, type ExprContext, type ExpressionPrimitive } from "./primitives/js-expr.js";
export {
  LazyTensor,
  fuse,
  fuseFill,
  fusedSum,
  fusionStatus,
  isPending,
  resetFusionStats,
  setFusion,
  swapFusionAllocator,
  type FusionAllocator,
  type FusionOperand,
  type FusionOptions,
  type FusionStatus,
} from "./fusion.js";
export {
  Trace,
  Tracer,
  checkNotEscaped,
  bind,
  bindCustomJvp,
  bindCustomVjp,
  withTrace,
  findTopTrace,
  raiseAll,
  nextLevel,
  currentTrace,
  type CustomJvpRule,
  type CustomVjpRule,
} from "./trace.js";
export { type TensorLike, toOperand, toOperands, castTo } from "./coerce.js";
// weak types of traced JS numbers (issue 19, xforms)
export { markWeak, isWeak } from "./xforms-exports.js";
export * from "./ops.js";
// family: structured control flow (issue 19, ctrl)
export {
  cond,
  switchCase,
  forLoop,
  scan,
  whileLoop,
  whileLoopReverseError,
  type ControlScalar,
  type ScanOptions,
  type CondFunction,
  type SwitchCaseFunction,
  type ForLoopFunction,
  type ScanFunction,
  type WhileLoopFunction,
} from "./control.js";
export { type ControlCall, type SubGraph, controlCall } from "./primitives/control.js";
export { bindControl, stagingActive } from "./trace.js";
export { traceSubgraph, evalGraphTrusted, type SubTrace } from "./graph.js";
// family: reductions, scans and sorting (issue 17)
export {
  prod,
  argmin,
  std,
  all,
  any,
  cumsum,
  cumprod,
  cummax,
  cummin,
  logcumsumexp,
  sort,
  argsort,
  topK,
  type StdOptions,
} from "./reductions.js";
// family: indexing (issue 17, ops-index)
export { takeAlongAxis, at, type Index, type IndexEntry, type IndexSlice, type IndexUpdate } from "./indexing-ops.js";
// issue 17, family "activations" (ops-nn): activations and losses
export {
  softplus,
  logSigmoid,
  silu,
  elu,
  leakyRelu,
  softsign,
  relu6,
  hardTanh,
  binaryCrossEntropy,
  huberLoss,
  type Reduction,
} from "./nn.js";
// issue 17, family "shapes" (ops-nn)
export { split, flip, tile, repeat, roll, diag, diagonal, triu, tril, swapaxes, moveaxis } from "./shape-ops2.js";
export { softmax, logSoftmax, crossEntropy, mse, gelu } from "./nn.js";
// the math family (issue 17): elementwise math, predicates and logic; scalar special functions for engine authors
export * from "./math-ops.js";
export { SPECIAL, SPECIAL_SOURCE, type SpecialFunctions } from "./special.js";
// family: convolution and pooling (issue 18)
export {
  conv,
  conv1d,
  conv2d,
  conv3d,
  convTranspose,
  maxPool,
  avgPool,
  adaptiveAvgPool,
  type ConvOptions,
  type ConvPadding,
  type ConvTransposeOptions,
  type PoolOptions,
  type AvgPoolOptions,
} from "./conv-ops.js";
// the window loops, shared with the JIT's runtime
export { WINDOW, WINDOW_SOURCE, type WindowKernels } from "./primitives/window-kernels.js";
export { customJvp, customVjp, checkCustomRule, ForwardModeError } from "./custom.js";
// vmap (issue 19): the batching trace over every primitive's batching rule
export { vmap, vmapFallbacks, batchByLoop, BatchTrace, BatchTracer, type VmapOptions, type AxisSpec } from "./vmap.js";
export { type PyTree, type TreeDef, flatten, unflatten, leafCount, numberLeaves, sameStructure, describeTree, mapTree } from "./pytree.js";
export {
  type Graph,
  type GraphNode,
  type GraphInput,
  type GraphConstant,
  type GraphValue,
  type TraceOptions,
  trace,
  traceWith,
  evalGraph,
  toFunction,
  graphCost,
  checkGraphLimits,
  DEFAULT_GRAPH_LIMITS,
  type GraphLimits,
  validateGraph,
  inlinedCustomRules,
} from "./graph.js";
export { graphToJSON, serializeGraph, parseGraph, GRAPH_FORMAT, GRAPH_FORMAT_VERSION } from "./json.js";
export { graphToText, graphToDot, graphToMermaid, graphToAscii, valueNames, type GraphDrawOptions, type DotOptions } from "./print.js";
export { config, withDebugNans, checkNans, type Config } from "./config.js";
// eager backends (issue 20): ir's JavaScript kernels by default; @chainrule/wasm registers one
export {
  registerBackend,
  setBackend,
  backendStatus,
  withBackend,
  backendRun,
  backendMatmul,
  type Backend,
  type BackendStatus,
} from "./backend.js";
export {
  type Engine,
  type EngineCore,
  type FlatFunction,
  type Argnums,
  type AnyFunction,
  type TensorFunction,
  type Input,
  type Inputs,
  type Output,
  type TangentOf,
  type MapLeaves,
  type AllNumbers,
  type ValueOf,
  type ArgsAt,
  type GradientOf,
  type JacobianOf,
  type HessianOf,
  type JacobianTree,
  type GradFunction,
  type ValueAndGradFunction,
  type JacobianFunction,
  type HessianFunction,
  type JvpResult,
  type VjpResult,
  SPEC_VERSION,
  defineEngine,
  rejectExtraArguments,
} from "./engine.js";
// transformations beyond grad/jvp/vjp (issue 19, xforms): hasAux, linearize, jacfwd/jacrev, checkpoint
export type {
  AuxOf,
  AuxOption,
  GradAuxFunction,
  JacobianAuxFunction,
  LinearizeResult,
  OutOf,
  TransformOptions,
  ValueAndGradAuxFunction,
  VjpAuxResult,
} from "./engine.js";
export { CHECKPOINT_POLICIES, type CheckpointPolicy, type CheckpointOptions } from "./checkpoint.js";
export { makeCheckpoint, splitVjpOptions, transformOptions } from "./xforms-exports.js";
