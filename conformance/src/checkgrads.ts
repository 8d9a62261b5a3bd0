/**
 * `checkGrads` — the user-facing gradient check, like JAX's `check_grads` and PyTorch's
 * `gradcheck`. Forward mode: the engine's jvp along a random direction against central finite
 * differences (five-point stencil, float64). Reverse mode: the dot-product test
 * ⟨Jᵀw, u⟩ = ⟨w, Ju⟩ that ties the engine's vjp to its own jvp. Both recurse to `order` by
 * checking the derivative function itself (jvp along a fixed direction, vjp with a fixed
 * cotangent), which exercises nested transformations.
 */
import { Random, Tensor, type Engine } from "@chainrule/ir";
import {
  axpy,
  compare,
  dotAll,
  flat,
  fmt,
  leafPaths,
  randomDirections,
  rebuild,
  treeValues,
  values,
  withValues,
  type FlatTree,
  type Leaf,
} from "./tree.js";

export type Mode = "forward" | "reverse";

export interface CheckGradsOptions {
  /** Highest derivative order checked (default 2). */
  readonly order?: number;
  /** Which modes to check (default both). */
  readonly modes?: readonly Mode[];
  /** Relative tolerance (default 1e-5; 2e-3 when an argument is float32). */
  readonly rtol?: number;
  /** Absolute tolerance (default 1e-7; 1e-4 with float32). */
  readonly atol?: number;
  /** Finite-difference step (default 1e-3, 1e-2 with float32; the five-point stencil's error is O(eps⁴)). */
  readonly eps?: number;
  /** Seed of the random directions (default 0). */
  readonly seed?: number;
}

/** What kind of check failed. */
export type CheckKind = "primal" | "forward" | "reverse" | "shape";

/** A failed gradient check: which mode, which order, at which argument, by how much. */
export class GradCheckError extends Error {
  readonly code = "GRAD_CHECK" as const;
  constructor(
    message: string,
    readonly kind: CheckKind,
    readonly order: number,
    readonly argument: string,
    readonly error: number,
    readonly tolerance: number,
  ) {
    super(message);
    this.name = "GradCheckError";
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the widest function type, as TypeScript's Parameters<F> constraint needs
type Fn = (...args: any[]) => any;

/** The Engine interface without its call-site generics (the checker works on any function). */
export interface LooseEngine {
  readonly name: string;
  jvp(f: Fn, primals: unknown[], tangents: unknown[]): [unknown, unknown];
  vjp(f: Fn, ...primals: unknown[]): [unknown, (cotangent: unknown) => unknown[]];
  grad(f: Fn, argnums?: number | readonly number[]): Fn;
  valueAndGrad(f: Fn, argnums?: number | readonly number[]): Fn;
  jacobian(f: Fn, argnums?: number | readonly number[]): Fn;
  hessian(f: Fn, argnums?: number | readonly number[]): Fn;
  hvp(f: Fn, primals: unknown[], tangents: unknown[]): unknown;
}

export function loose(engine: Engine): LooseEngine {
  return engine as unknown as LooseEngine;
}

interface Resolved {
  readonly rtol: number;
  readonly atol: number;
  readonly eps: number;
  readonly modes: readonly Mode[];
}

const ORDER_NAMES = ["", "first", "second", "third", "fourth", "fifth"];

function orderName(order: number): string {
  return ORDER_NAMES[order] ?? `${order}th`;
}

function fail(kind: CheckKind, order: number, argument: string, what: string, error: number, tolerance: number, context: string): never {
  const mode =
    kind === "forward"
      ? "forward mode (jvp vs finite differences)"
      : kind === "reverse"
        ? "reverse mode (vjp dot-product test against jvp)"
        : kind === "primal"
          ? "primal (vs direct evaluation)"
          : "shapes";
  throw new GradCheckError(
    `checkGrads: ${mode} failed at ${orderName(order)} order, argument ${argument}${context}: ${what} (error ${fmt(error)} > ` +
      `tolerance ${fmt(tolerance)})`,
    kind,
    order,
    argument,
    error,
    tolerance,
  );
}

/** A tree like `x` whose leaves hold `dirs`. */
function treeOf(x: FlatTree, dirs: readonly Float64Array[]): unknown {
  return rebuild(
    x.def,
    x.leaves.map((leaf, i) => withValues(leaf, dirs[i]!)),
  );
}

function callFlat(f: Fn, args: unknown): unknown {
  return f(...(args as unknown[]));
}

/** Central differences along `dirs`: [f(x−2h) − 8f(x−h) + 8f(x+h) − f(x+2h)] / 12h. */
export function finiteDifference(f: Fn, x: FlatTree, dirs: readonly Float64Array[], eps: number): Float64Array {
  const at = (t: number) => treeValues(callFlat(f, axpy(x, t, dirs)));
  const m2 = at(-2 * eps);
  const m1 = at(-eps);
  const p1 = at(eps);
  const p2 = at(2 * eps);
  const out = new Float64Array(p1.length);
  for (let i = 0; i < out.length; i++) out[i] = (m2[i]! - 8 * m1[i]! + 8 * p1[i]! - p2[i]!) / (12 * eps);
  return out;
}

function oneLeaf(dirs: readonly Float64Array[], keep: number): Float64Array[] {
  return dirs.map((d, i) => (i === keep ? d : new Float64Array(d.length)));
}

function checkForward(
  engine: LooseEngine,
  f: Fn,
  args: readonly unknown[],
  order: number,
  o: Resolved,
  rng: Random,
  context: string,
): void {
  const x = flat(args, "args");
  const paths = leafPaths(x.def);
  const dirs = randomDirections(x.leaves, rng);
  const run = (d: readonly Float64Array[]) => {
    const [y, t] = engine.jvp(f, args as unknown[], treeOf(x, d) as unknown[]);
    return { y, t: treeValues(t), fd: finiteDifference(f, x, d, o.eps) };
  };
  const { y, t, fd } = run(dirs);
  if (order === 1) {
    const direct = treeValues(callFlat(f, args));
    const bad = compare(treeValues(y), direct, o.rtol, o.atol);
    if (bad)
      fail(
        "primal",
        order,
        "(all)",
        `jvp's primal output ${fmt(bad.got)} vs f(...args) ${fmt(bad.expected)} at output element ${bad.index}`,
        bad.error,
        bad.tolerance,
        context,
      );
  }
  const bad = compare(t, fd, o.rtol, o.atol);
  if (!bad) return;
  // localize: the first argument leaf whose own direction fails
  for (let i = 0; i < x.leaves.length && x.leaves.length > 1; i++) {
    const r = run(oneLeaf(dirs, i));
    const b = compare(r.t, r.fd, o.rtol, o.atol);
    if (b)
      fail(
        "forward",
        order,
        paths[i]!,
        `tangent ${fmt(b.got)} vs finite difference ${fmt(b.expected)} at output element ${b.index}`,
        b.error,
        b.tolerance,
        context,
      );
  }
  fail(
    "forward",
    order,
    x.leaves.length === 1 ? paths[0]! : "(all jointly)",
    `tangent ${fmt(bad.got)} vs finite difference ${fmt(bad.expected)} at output element ${bad.index}`,
    bad.error,
    bad.tolerance,
    context,
  );
}

function shapeString(leaf: unknown): string {
  return leaf instanceof Tensor ? `[${leaf.shape.join(", ")}]` : typeof leaf === "number" ? "number" : String(leaf);
}

function checkReverse(
  engine: LooseEngine,
  f: Fn,
  args: readonly unknown[],
  order: number,
  o: Resolved,
  rng: Random,
  context: string,
): void {
  const x = flat(args, "args");
  const paths = leafPaths(x.def);
  const [y, pullback] = engine.vjp(f, ...args);
  const yFlat = flat(y, "f's result");
  const w = randomDirections(yFlat.leaves, rng);
  const ct = flat(pullback(treeOf(yFlat, w)), "cotangents");
  if (ct.leaves.length !== x.leaves.length) {
    fail(
      "shape",
      order,
      "(all)",
      `the pullback returned ${ct.leaves.length} cotangent leaves for ${x.leaves.length} argument leaves`,
      Infinity,
      0,
      context,
    );
  }
  ct.leaves.forEach((c, i) => {
    const xi = x.leaves[i]!;
    const want = typeof xi === "number" ? [] : xi.shape;
    const got = typeof c === "number" ? [] : c.shape;
    if (want.length !== got.length || want.some((d, k) => d !== got[k])) {
      fail(
        "shape",
        order,
        paths[i]!,
        `the cotangent has shape ${shapeString(c)}, expected the argument's shape ${shapeString(xi)}`,
        Infinity,
        0,
        context,
      );
    }
  });
  const ctValues = ct.leaves.map(values);
  const u = randomDirections(x.leaves, rng);
  const ju = (d: readonly Float64Array[]) => flat(engine.jvp(f, args as unknown[], treeOf(x, d) as unknown[])[1]).leaves.map(values);
  const test = (d: readonly Float64Array[]) => {
    const lhs = dotAll(ctValues, d);
    const rhs = dotAll(w, ju(d));
    const scale = Math.sqrt(dotAll(ctValues, ctValues) * dotAll(d, d));
    return compare([lhs], [rhs], o.rtol, o.atol + o.rtol * scale);
  };
  const bad = test(u);
  if (!bad) return;
  for (let i = 0; i < x.leaves.length && x.leaves.length > 1; i++) {
    const b = test(oneLeaf(u, i));
    if (b)
      fail("reverse", order, paths[i]!, `⟨vjp(w), u⟩ = ${fmt(b.got)} but ⟨w, jvp(u)⟩ = ${fmt(b.expected)}`, b.error, b.tolerance, context);
  }
  fail(
    "reverse",
    order,
    x.leaves.length === 1 ? paths[0]! : "(all jointly)",
    `⟨vjp(w), u⟩ = ${fmt(bad.got)} but ⟨w, jvp(u)⟩ = ${fmt(bad.expected)}`,
    bad.error,
    bad.tolerance,
    context,
  );
}

function checkRecursive(
  engine: LooseEngine,
  f: Fn,
  args: readonly unknown[],
  order: number,
  max: number,
  o: Resolved,
  rng: Random,
  context: string,
): void {
  if (o.modes.includes("forward")) checkForward(engine, f, args, order, o, rng, context);
  if (o.modes.includes("reverse")) checkReverse(engine, f, args, order, o, rng, context);
  if (order >= max) return;
  const x = flat(args, "args");
  if (o.modes.includes("forward")) {
    const v = treeOf(x, randomDirections(x.leaves, rng)) as unknown[];
    const df: Fn = (...xs: unknown[]) => engine.jvp(f, xs, v)[1];
    checkRecursive(engine, df, args, order + 1, max, o, rng, `${context} (of the jvp)`);
  }
  if (o.modes.includes("reverse")) {
    const y = flat(callFlat(f, args), "f's result");
    const w = treeOf(y, randomDirections(y.leaves, rng));
    const df: Fn = (...xs: unknown[]) => engine.vjp(f, ...xs)[1](w);
    checkRecursive(engine, df, args, order + 1, max, o, rng, `${context} (of the vjp)`);
  }
}

/**
 * Checks an engine's derivatives of `f` at `args` (numbers, Tensors or pytrees of them, float64
 * for meaningful finite differences) up to `order`. Throws a `GradCheckError` on the first failure.
 */
export function checkGrads(engine: Engine, f: Fn, args: readonly unknown[], options: CheckGradsOptions = {}): void {
  const order = options.order ?? 2;
  if (!Number.isInteger(order) || order < 1) throw new RangeError(`checkGrads: expected order ≥ 1, got ${order}`);
  const modes = options.modes ?? ["forward", "reverse"];
  if (modes.length === 0 || modes.some((m) => m !== "forward" && m !== "reverse")) {
    throw new RangeError(`checkGrads: expected modes among "forward", "reverse", got ${JSON.stringify(modes)}`);
  }
  // float32 arguments: finite differences are only good to ~1e-3, so the defaults widen
  const single = flat(args, "args").leaves.some((l) => l instanceof Tensor && l.dtype === "float32");
  const resolved: Resolved = {
    rtol: options.rtol ?? (single ? 2e-3 : 1e-5),
    atol: options.atol ?? (single ? 1e-4 : 1e-7),
    eps: options.eps ?? (single ? 1e-2 : 1e-3),
    modes,
  };
  checkRecursive(loose(engine), f, args, 1, order, resolved, new Random(options.seed ?? 0), "");
}

export type { Leaf };
