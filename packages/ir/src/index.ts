/**
 * @chainrule/ir — tensors, the primitive ops, graphs, tracing, eager evaluation, printing, JSON,
 * and the `Engine` interface that every chainrule engine implements.
 */
export { type DType, type TypedArray, DTYPES, isFloat, promoteTypes } from "./dtype.js";
export {
  ChainruleError,
  ShapeError,
  DTypeError,
  ArgumentError,
  ConcretizationError,
  GraphError,
  NanError,
  describeValue,
  type ErrorCode,
} from "./errors.js";
export { type Shape, broadcastShapes, sizeOf, formatShape, shapesEqual, normalizeAxes, normalizeAxis, broadcastedAxes } from "./shape.js";
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
  isPrimitive,
  inferAval,
} from "./primitives.js";
export { evalPrimitive } from "./kernels.js";
export {
  Trace,
  Tracer,
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
export * from "./ops.js";
export { softmax, logSoftmax, crossEntropy, mse } from "./nn.js";
export { customJvp, customVjp } from "./custom.js";
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
  validateGraph,
} from "./graph.js";
export { graphToJSON, serializeGraph, parseGraph, GRAPH_FORMAT, GRAPH_FORMAT_VERSION } from "./json.js";
export { graphToText, graphToDot, graphToMermaid, graphToAscii, valueNames, type GraphDrawOptions, type DotOptions } from "./print.js";
export { config, withDebugNans, checkNans, type Config } from "./config.js";
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
} from "./engine.js";
