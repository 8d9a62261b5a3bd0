/**
 * The static types of the transformations (`grad`, `valueAndGrad`, `jvp`, `vjp`, `jacobian`,
 * `hessian`, `hvp`), shared by every engine:
 *
 * - an inline function gets `Tensor` parameters by context (`grad((x, y) => mul(x, y))`), through
 *   an overload taking a `TensorFunction`; functions with other parameters (pytrees, extra
 *   arguments) go through the `AnyFunction` overload;
 * - results follow the types of the call's arguments, as at run time: a JS number leaf gives a JS
 *   number, a Tensor leaf a Tensor (`grad(f, [0, 1])(3, 2)` is `[number, number]`).
 *
 * Inside an enclosing transformation, a result that depends on the enclosing one's inputs is a
 * Tensor even where the types say number (a closure's values are invisible to the types).
 */
import type { TypedArray } from "./dtype.js";
import type { NestedArray, Tensor } from "./tensor.js";

// biome-ignore lint/suspicious/noExplicitAny: the widest function type, as TypeScript's Parameters<F> constraint needs
export type AnyFunction = (...args: any[]) => any;

/** A function each of whose parameters accepts a Tensor: inline lambdas get `Tensor` parameters by context. */
export type TensorFunction = (...args: Tensor[]) => unknown;

/** Which arguments to differentiate: one index or several. */
export type Argnums = number | readonly number[];

/** A differentiable argument as a caller may give it: Tensor leaves also accept JS numbers. */
export type Input<T> = T extends Tensor
  ? Tensor | number
  : T extends number
    ? number
    : // nested number arrays and typed arrays (as in ops' `TensorLike` parameters) stay as they are;
      // mapping the recursive NestedArray would never end (TS2589 on e.g. `grad(grad(sin))`)
      T extends NestedArray | TypedArray
      ? T
      : T extends readonly unknown[]
        ? { [K in keyof T]: Input<T[K]> }
        : T extends object
          ? { [K in keyof T]: Input<T[K]> }
          : T;

type InputsOf<P extends readonly unknown[]> = { [K in keyof P]: Input<P[K]> };
/** The arguments a transformation of `F` accepts: `F`'s parameters with JS numbers allowed for Tensors. */
export type Inputs<F extends AnyFunction> = InputsOf<Parameters<F>>;
/** `F`'s result with JS numbers allowed for Tensors (what a cotangent for it may be). */
export type Output<F extends AnyFunction> = Input<ReturnType<F>>;

/**
 * A pytree type with its JS-number leaves replaced by `N` and its Tensor leaves by `T`, the
 * structure kept (tuples stay tuples, object keys stay). `any`/`unknown` stay as they are.
 */
export type MapLeaves<X, N, T> = unknown extends X
  ? X
  : // the recursive NestedArray (ops' TensorLike) stays as it is: mapping it would never end (TS2589)
    NestedArray extends X
    ? X
    : X extends number
      ? N
      : X extends Tensor
        ? T
        : X extends readonly unknown[]
          ? number extends X["length"]
            ? MapLeaves<X[number], N, T>[]
            : { -readonly [K in keyof X]: MapLeaves<X[K], N, T> }
          : X extends TypedArray
            ? X
            : X extends object
              ? { -readonly [K in keyof X]: MapLeaves<X[K], N, T> }
              : X;

/**
 * The gradient (tangent, cotangent) of a value of type `T`: the same structure, a JS number where
 * `T` has a number, a Tensor where it has a Tensor.
 */
export type TangentOf<T> = MapLeaves<T, number, Tensor>;

/** The union of the leaf types of a pytree type. */
type LeafOf<T> = NestedArray extends T
  ? number
  : T extends number | Tensor
    ? T
    : T extends TypedArray
      ? number
      : T extends readonly (infer E)[]
        ? LeafOf<E>
        : T extends object
          ? LeafOf<T[keyof T]>
          : never;

/** `true` when every leaf of the pytree type `T` is a JS number (`false` for `any`/`unknown`). */
export type AllNumbers<T> = unknown extends T ? false : [LeafOf<T>] extends [number] ? true : false;

/**
 * `f`'s result `R` as a transformation returns it: a JS number where `f` returned one, and where
 * `N` (every differentiated input a JS number) holds, a JS number for each scalar Tensor. The
 * types cannot see ranks: a Tensor leaf counts as scalar when the inputs are all numbers (a
 * function of numbers returning a vector gives a Tensor at run time).
 */
export type ValueOf<R, N extends boolean> = MapLeaves<R, number, N extends true ? number : Tensor>;

/** The differentiated arguments: `args[argnums]`, or the tuple of them for an array of argnums. */
export type ArgsAt<Args extends readonly unknown[], A extends Argnums> = A extends number
  ? Args[A]
  : { -readonly [K in keyof A]: A[K] extends number ? Args[A[K]] : never };

/** The gradient `grad(f, argnums)(...args)` returns: the differentiated arguments' tangents. */
export type GradientOf<Args extends readonly unknown[], A extends Argnums> = TangentOf<ArgsAt<Args, A>>;

/** A Jacobian or Hessian whose structure the types cannot tell. */
export type JacobianTree = Tensor | number | JacobianTree[] | { [key: string]: JacobianTree };

/**
 * The Jacobian of `f` (result `R`) with respect to the differentiated arguments `D`: `R`'s
 * structure, each leaf replaced by `D`'s structure. A block is a JS number when its input leaf is
 * a number and its output leaf is a scalar that `f` returned as a number or whose inputs were all
 * numbers (`N`; ranks as in `ValueOf`); otherwise a Tensor of shape `out.shape ++ in.shape`.
 */
export type JacobianOf<R, D, N extends boolean> = unknown extends R
  ? JacobianTree
  : MapLeaves<R, TangentOf<D>, N extends true ? TangentOf<D> : MapLeaves<D, Tensor, Tensor>>;

/** The Hessian block of one output leaf with respect to `D`: `D`'s structure of `D`'s structures, numbers only when every input is one. */
type HessianBlock<D, N extends boolean> = MapLeaves<
  D,
  MapLeaves<D, N extends true ? number : Tensor, Tensor>,
  MapLeaves<D, Tensor, Tensor>
>;

/**
 * The Hessian of `f` (result `R`, default a scalar) with respect to `D`: for a single output leaf,
 * `D`'s structure of `D`'s structures; for a tree of outputs, `R`'s structure of such blocks (as
 * `JacobianOf`). Ranks are not in the types: with number inputs a Tensor output leaf counts as a
 * scalar (a vector output gives a Tensor block at run time, as in `ValueOf`).
 */
export type HessianOf<D, N extends boolean, R = number> = unknown extends D
  ? JacobianTree
  : unknown extends R
    ? HessianBlock<D, N>
    : R extends number | Tensor
      ? HessianBlock<D, N>
      : MapLeaves<R, HessianBlock<D, N>, HessianBlock<D, N>>;

/** `grad(f, argnums)`. */
export type GradFunction<F extends AnyFunction, A extends Argnums> = <Args extends Inputs<F>>(...args: Args) => GradientOf<Args, A>;

/** `valueAndGrad(f, argnums)`: `[f(...args), gradient]`. */
export type ValueAndGradFunction<F extends AnyFunction, A extends Argnums> = <Args extends Inputs<F>>(
  ...args: Args
) => [ValueOf<ReturnType<F>, AllNumbers<ArgsAt<Args, A>>>, GradientOf<Args, A>];

/** `jacobian(f, argnums)`. */
export type JacobianFunction<F extends AnyFunction, A extends Argnums> = <Args extends Inputs<F>>(
  ...args: Args
) => JacobianOf<ReturnType<F>, ArgsAt<Args, A>, AllNumbers<ArgsAt<Args, A>>>;

/** `hessian(f, argnums)`. */
export type HessianFunction<F extends AnyFunction, A extends Argnums> = <Args extends Inputs<F>>(
  ...args: Args
) => HessianOf<ArgsAt<Args, A>, AllNumbers<ArgsAt<Args, A>>, ReturnType<F>>;

/** `jvp(f, primals, tangents)`: `[f(...primals), J·tangents]`. */
export type JvpResult<F extends AnyFunction, P extends readonly unknown[]> = [
  ValueOf<ReturnType<F>, AllNumbers<P>>,
  ValueOf<ReturnType<F>, AllNumbers<P>>,
];

/** `vjp(f, ...primals)`: `[f(...primals), pullback]`; the pullback gives one cotangent per primal. */
export type VjpResult<F extends AnyFunction, P extends readonly unknown[]> = [
  ValueOf<ReturnType<F>, AllNumbers<P>>,
  (cotangent: Output<F>) => TangentOf<P>,
];

// ── hasAux, linearize ─────────────────────────────────────────────────────────────────────

/** `{ hasAux: true }`: `f` returns `[out, aux]`; aux comes back as it is, not differentiated. */
export interface AuxOption {
  readonly hasAux: true;
}

/** The options of grad, valueAndGrad, jacobian, jacfwd, jacrev (and vjp's trailing options). */
export interface TransformOptions {
  readonly hasAux?: boolean;
}

/** Under hasAux, the differentiated part of `f`'s `[out, aux]` result. */
export type OutOf<F extends AnyFunction> = ReturnType<F> extends readonly [infer O, unknown] ? O : unknown;

/** Under hasAux, the aux part of `f`'s `[out, aux]` result (Tensors stay Tensors, numbers numbers). */
export type AuxOf<F extends AnyFunction> = ReturnType<F> extends readonly [unknown, infer X] ? MapLeaves<X, number, Tensor> : unknown;

/** `grad(f, argnums, { hasAux: true })`: `[gradient, aux]`. */
export type GradAuxFunction<F extends AnyFunction, A extends Argnums> = <Args extends Inputs<F>>(
  ...args: Args
) => [GradientOf<Args, A>, AuxOf<F>];

/** `valueAndGrad(f, argnums, { hasAux: true })`: `[[value, aux], gradient]`. */
export type ValueAndGradAuxFunction<F extends AnyFunction, A extends Argnums> = <Args extends Inputs<F>>(
  ...args: Args
) => [[ValueOf<OutOf<F>, AllNumbers<ArgsAt<Args, A>>>, AuxOf<F>], GradientOf<Args, A>];

/** `jacobian(f, argnums, { hasAux: true })` (and jacfwd, jacrev): `[J, aux]`. */
export type JacobianAuxFunction<F extends AnyFunction, A extends Argnums> = <Args extends Inputs<F>>(
  ...args: Args
) => [JacobianOf<OutOf<F>, ArgsAt<Args, A>, AllNumbers<ArgsAt<Args, A>>>, AuxOf<F>];

/** `vjp(f, ...primals, { hasAux: true })`: `[out, pullback, aux]`. */
export type VjpAuxResult<F extends AnyFunction, P extends readonly unknown[]> = [
  ValueOf<OutOf<F>, AllNumbers<P>>,
  (cotangent: Input<OutOf<F>>) => TangentOf<P>,
  AuxOf<F>,
];

/** `linearize(f, ...primals)`: `[f(...primals), jvpFn]`, `jvpFn(...tangents)` = J·tangents, reusable. */
export type LinearizeResult<F extends AnyFunction, P extends readonly unknown[]> = [
  ValueOf<ReturnType<F>, AllNumbers<P>>,
  (...tangents: Inputs<F>) => ValueOf<ReturnType<F>, AllNumbers<P>>,
];
