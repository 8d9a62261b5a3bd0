import { allocate, type DType } from "./dtype.js";
import { activeBackend, offered } from "./backend.js";
import { checkArity, internalError } from "./errors.js";
import { sizeOf, type Shape } from "./shape.js";
import { Tensor } from "./tensor.js";
import { COMPARISON, type ComparisonParams } from "./primitives/comparison.js";
// family: convolution and pooling (issue 18)
import { CONV, type ConvParams } from "./primitives/conv.js";
import type { Definitions, ParamKind, PrimitiveDef, ShapeRule } from "./primitives/define.js";
import { ELEMENTWISE, type BinaryParams, type ElementwiseParams, type UnaryParams } from "./primitives/elementwise.js";
import { INDEXING, type IndexingParams } from "./primitives/indexing.js";
export { INDEX_CHECKS, type IndexCheck, isIndexCheck, indexCheckError } from "./primitives/indexing.js";
import { LINALG, type LinalgParams } from "./primitives/linalg.js";
// the math family (issue 17)
import { MATH, type MathBinaryParams, type MathParams, type MathUnaryParams } from "./primitives/elementwise-math.js";
import { REDUCTION, type ReductionParams } from "./primitives/reduction.js";
// family: reductions, scans and sorting (issue 17)
import { SCAN, type ScanParams } from "./primitives/scan.js";
// family: indexing (issue 17, ops-index)
import { SCATTER, type ScatterParams } from "./primitives/scatter.js";
import { STRUCTURAL, type StructuralParams } from "./primitives/structural.js";
// family: random bits (issue 18, nn)
import { RANDOM, type RandomParams } from "./primitives/random.js";
// family: structured control flow (issue 19, ctrl)
import { CONTROL, type ControlParams } from "./primitives/control.js";

/**
 * The primitive set. Every user-facing op is one of these or a composite of them. Each primitive
 * is defined once, in its family's file under primitives/ (define.ts says what a definition
 * holds): its params there, its definition in that family's table. Every interpretation reads
 * `DEFINITIONS` or keys its own table on `Primitive`, so a primitive added to a family breaks the
 * typecheck wherever something is missing.
 *
 * Params are plain JSON data (graphs serialize them as they are).
 */
export interface PrimitiveParams
  extends ElementwiseParams,
    ComparisonParams,
    ReductionParams,
    StructuralParams,
    IndexingParams,
    LinalgParams,
    // family: reductions, scans and sorting (issue 17)
    ScanParams,
    // family: indexing (issue 17, ops-index)
    ScatterParams,
    // family: elementwise math (issue 17, ops-math)
    MathParams,
    // family: random bits (issue 18, nn)
    RandomParams,
    // family: convolution and pooling (issue 18)
    ConvParams,
    // family: structured control flow (issue 19, ctrl)
    ControlParams {}

export type Empty = Record<string, never>;
export type Primitive = keyof PrimitiveParams;
export type Params<P extends Primitive = Primitive> = PrimitiveParams[P];

/** A table with one entry per primitive; a missing entry is a type error. */
export type PrimitiveTable<T extends { [P in Primitive]: unknown }> = { [P in Primitive]: T[P] };

/** The shape and dtype of a value: what tracing knows without data. */
export interface Aval {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Every primitive's definition (frozen, with their params tables: graph parsing trusts them). */
export const DEFINITIONS: Readonly<Definitions<Primitive>> = deepFreeze({
  ...ELEMENTWISE,
  ...COMPARISON,
  ...REDUCTION,
  ...STRUCTURAL,
  ...INDEXING,
  ...LINALG,
  // family: reductions, scans and sorting (issue 17)
  ...SCAN,
  ...SCATTER,
  ...MATH,
  // family: random bits (issue 18, nn)
  ...RANDOM,
  // family: convolution and pooling (issue 18)
  ...CONV,
  // family: structured control flow (issue 19, ctrl)
  ...CONTROL,
});

/** Every primitive name, in a fixed order. */
export const PRIMITIVES: readonly Primitive[] = Object.freeze(Object.keys(DEFINITIONS) as Primitive[]);

/** Freezes a table, the objects it holds and their params tables. */
function deepFreeze<T extends object>(table: T): Readonly<T> {
  for (const value of Object.values(table)) {
    if (value !== null && typeof value === "object") {
      if ("params" in value && typeof value.params === "object") Object.freeze(value.params);
      Object.freeze(value);
    }
  }
  return Object.freeze(table);
}

/** The definition of `prim`. */
export function definitionOf<P extends Primitive>(prim: P): PrimitiveDef<P> {
  return DEFINITIONS[prim] as PrimitiveDef<P>;
}

/** Whether `name` is a primitive's name. */
export const isPrimitive = checkArity(
  "isPrimitive",
  1,
  1,
  (name: unknown): name is Primitive => typeof name === "string" && Object.hasOwn(DEFINITIONS, name),
);

function primitivesWhere(test: (def: PrimitiveDef<Primitive>) => boolean): readonly Primitive[] {
  return Object.freeze(PRIMITIVES.filter((p) => test(DEFINITIONS[p] as PrimitiveDef<Primitive>)));
}

const EMPTY_PARAMS = (def: PrimitiveDef<Primitive>) => Object.keys(def.params).length === 0;
const ELEMENTWISE_NAMES = new Set([...Object.keys(ELEMENTWISE), ...Object.keys(MATH)]);

/** Elementwise primitives of one operand (float math, neg, abs, sign). */
export const UNARY_PRIMITIVES: readonly UnaryPrimitive[] = primitivesWhere(
  (d) => ELEMENTWISE_NAMES.has(d.name) && d.arity === 1 && EMPTY_PARAMS(d) && d.name !== "stopGradient",
) as UnaryPrimitive[];
/** Elementwise primitives of two broadcasting operands, with a numeric output. */
export const BINARY_PRIMITIVES = primitivesWhere((d) => ELEMENTWISE_NAMES.has(d.name) && d.arity === 2) as readonly BinaryPrimitive[];
/** Comparisons (bool outputs). */
export const COMPARISON_PRIMITIVES: readonly ComparisonPrimitive[] = Object.freeze(Object.keys(COMPARISON) as ComparisonPrimitive[]);

export type UnaryPrimitive = keyof UnaryParams | keyof MathUnaryParams;
export type BinaryPrimitive = keyof BinaryParams | keyof MathBinaryParams;
export type ComparisonPrimitive = keyof ComparisonParams;

/** Number of operands of each primitive. */
export const ARITY = Object.freeze(Object.fromEntries(PRIMITIVES.map((p) => [p, DEFINITIONS[p].arity]))) as PrimitiveTable<{
  [P in Primitive]: number | "variadic";
}>;

/** Output shape and dtype of each primitive; also the one place where primitive inputs are checked. */
export const SHAPE_RULES = Object.freeze(Object.fromEntries(PRIMITIVES.map((p) => [p, DEFINITIONS[p].shape]))) as {
  [P in Primitive]: ShapeRule<P>;
};

export type { ParamKind };
/** The kind of each primitive parameter, for validating graphs that come from outside (JSON). */
export const PARAM_KINDS = Object.freeze(Object.fromEntries(PRIMITIVES.map((p) => [p, DEFINITIONS[p].params]))) as {
  [P in Primitive]: { [K in keyof Params<P>]-?: ParamKind };
};

/** Checks arity and computes the output aval of `prim` applied to `avals`. */
export function inferAval<P extends Primitive>(prim: P, avals: readonly Aval[], params: Params<P>): Aval {
  const def = DEFINITIONS[prim] as PrimitiveDef<P>;
  const arity = def.arity;
  if (arity !== "variadic" && avals.length !== arity) {
    throw internalError(`${prim} takes ${arity} operands, got ${avals.length}`);
  }
  return def.shape(avals, params);
}

/** Evaluates one primitive on concrete tensors (its eager kernel). */
export function evalPrimitive<P extends Primitive>(prim: P, inputs: readonly Tensor[], params: Params<P>, out: Aval): Tensor {
  // an empty result needs no loop: kernels that walk the outer axes of a [2³¹, 0] value would spin for minutes
  if (sizeOf(out.shape) === 0 && prim !== "checkIndices") return new Tensor(out.dtype, out.shape.slice(), allocate(prim, out.dtype, 0));
  // an active backend (backend.ts) takes what it runs well; the rest, and everything by default, is ir's
  if (activeBackend !== undefined && offered(activeBackend, inputs)) {
    const result = activeBackend.run(prim, inputs, params as Params, out);
    if (result !== undefined) return result;
  }
  return (DEFINITIONS[prim] as PrimitiveDef<P>).kernel(inputs, params, out);
}
