/**
 * Two compact reference engines for the suite's own tests (not shipped): a forward-mode
 * dual-number engine and a tape-based reverse-mode engine, both built on ir's Trace/Tracer and
 * defineEngine. Each takes a `fault` switch that plants exactly one deliberate bug, so the tests
 * can show that the suite catches every one of them.
 */
import {
  add,
  astype,
  bind,
  bindCustomVjp,
  checkCustomRule,
  ForwardModeError,
  stopGradient,
  broadcastedAxes,
  cos,
  defineEngine,
  div,
  equal,
  greater,
  less,
  log,
  mul,
  mulNoNan,
  neg,
  pow,
  reshape,
  sign,
  sin,
  stack,
  sub,
  sum,
  Tensor,
  Trace,
  Tracer,
  where,
  withTrace,
  zeros,
  tensor,
  config,
  checkNans,
  ConcretizationError,
  isFloat,
  type Aval,
  type CustomJvpRule,
  type CustomVjpRule,
  type Engine,
  type EngineCore,
  type FlatFunction,
  type Params,
  type Primitive,
  // the math family
  exp,
  floor,
  polygamma,
  trunc,
} from "@chainrule/ir";
// family: convolution and pooling (issue 18)
import { convJvp, convVjp, windowJvpRules, windowVjpRules } from "./reference-conv.js";

export type Fault =
  | "none"
  /** forward: d tanh = (1 − y)·dx instead of (1 − y²)·dx */
  | "tanhDerivative"
  /** forward: d exp computed from concrete numbers, so it is right at first order and wrong above */
  | "expNotDifferentiable"
  /** forward: a value of an enclosing transformation keeps its tangent inside an inner one */
  | "perturbationConfusion"
  /** reverse: add's backward pass does not sum the cotangent over broadcast axes */
  | "dropBroadcastReduction"
  /** reverse: maximum/minimum ties give the full cotangent to both sides */
  | "maximumTieFull"
  /** reverse: reduce-max gives the full cotangent to each tied element */
  | "reduceMaxTieFull"
  /** reverse: abs'(0) = 1 (JAX's convention instead of chainrule's 0) */
  | "absZeroOne"
  /** reverse: stopGradient passes the cotangent through */
  | "stopGradientLeaks"
  /** reverse: matmul's cotangent for b uses a instead of aᵀ (only right for square symmetric a) */
  | "matmulTranspose"
  /** forward: customJvp rules are ignored (the function is differentiated instead) */
  | "ignoreCustomJvp"
  /** forward: behaves like a tracing engine — reading a tracer's value throws ConcretizationError (not a fault) */
  | "tracing";

function keepShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** A (co)tangent times a derivative factor: 0 · ∞ = 0 (chainrule's convention). */
const m0 = (t: Tensor, f: Tensor): Tensor => mulNoNan(t, f);

function zerosOf(aval: Aval): Tensor {
  return zeros(aval.shape, isFloat(aval.dtype) ? aval.dtype : "float64");
}

/** Sums `g` down to `shape` (the transpose of broadcasting). */
function unbroadcast(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const { axes } = broadcastedAxes(shape, g.shape);
  return reshape(axes.length ? bind("reduceSum", [g], { axes }) : g, shape);
}

function tieWeights(a: Tensor, b: Tensor, full: boolean): [Tensor, Tensor] {
  const tie = full ? 1 : 0.5;
  const wa = where(greater(a, b), 1, where(equal(a, b), tie, 0));
  const wb = where(less(a, b), 1, where(equal(a, b), tie, 0));
  return [astype(wa, a.dtype), astype(wb, a.dtype)];
}

/** ∂aᵇ/∂a = b·aᵇ⁻¹ (0 at a = b = 0), flat along b where a = 0; branches on safe inputs (the double-where idiom). */
function powBase(a: Tensor, b: Tensor): Tensor {
  const aZero = equal(a, 0);
  const bZero = equal(b, 0);
  const away = mul(b, pow(where(aZero, 1, a), sub(b, 1)));
  const atZero = mul(stopGradient(b), pow(a, sub(where(bZero, 1, b), 1)));
  return where(aZero, where(bZero, 0, atZero), away);
}

/** ∂aᵇ/∂b = aᵇ·log a, 0 at a = 0. */
function powExponent(a: Tensor, b: Tensor): Tensor {
  const aZero = equal(a, 0);
  const safe = where(aZero, 1, a);
  return where(aZero, 0, mul(pow(safe, b), log(safe)));
}

// family: reductions, scans and sorting (issue 17)
/** The entry one step earlier in scan order along `axis` (0 for the first): hᵢ₋₁, or hᵢ₊₁ for a reverse scan. */
function stepBack(t: Tensor, axis: number, reverse: number): Tensor {
  const n = t.shape[axis]!;
  if (n === 0) return t;
  const edge = zeros(keepShape(t.shape, [axis]), t.dtype);
  const part = (from: number, to: number) =>
    bind("slice", [t], { begin: t.shape.map((_, i) => (i === axis ? from : 0)), end: t.shape.map((d, i) => (i === axis ? to : d)) });
  return bind("concat", reverse ? [part(1, n), edge] : [edge, part(0, n - 1)], { axis });
}

function isConcreteZero(t: Tensor): boolean {
  return !(t instanceof Tracer) && Array.from(t.data as ArrayLike<number>).every((v) => v === 0);
}

// ── family: indexing (issue 17, ops-index): scatterMul/Min/Max through a dense incidence matrix ──

interface ScatterView {
  /** E[m, n] = 1 when update m goes to cell n (float, [M, N]). */
  readonly incidence: Tensor;
  /** x as [pre, N, post] and the updates as [pre, M, post]. */
  readonly x3: Tensor;
  readonly u3: Tensor;
}

function scatterView(x: Tensor, u: Tensor, idx: Tensor, axis: number): ScatterView {
  const n = x.shape[axis]!;
  const m = idx.size;
  const flatIdx = reshape(idx, [m, 1]);
  const cells = reshape(astype(tensor(Array.from({ length: n }, (_, i) => i)), "int32"), [1, n]);
  const wrapped = where(less(flatIdx, 0), add(flatIdx, n), flatIdx);
  const incidence = astype(equal(wrapped, cells), x.dtype);
  const pre = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const post = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return { incidence, x3: reshape(x, [pre, n, post]), u3: reshape(u, [pre, m, post]) };
}

const toCells = (v: ScatterView, t3: Tensor) => bind("matmul", [bind("transpose", [v.incidence], { perm: [1, 0] }), t3], {});
const toUpdates = (v: ScatterView, t3: Tensor) => bind("matmul", [v.incidence, t3], {});

/** [pre, M, post]: for each update, the product of the other updates of its cell (division-free: a loop of products). */
function othersProduct(v: ScatterView): Tensor {
  const m = v.incidence.shape[0]!;
  const same = toUpdates(v, bind("transpose", [v.incidence], { perm: [1, 0] }));
  const out: Tensor[] = [];
  for (let i = 0; i < m; i++) {
    let p: Tensor = astype(tensor(1), v.x3.dtype);
    for (let j = 0; j < m; j++) {
      if (j === i) continue;
      const sharing = reshape(bind("slice", [same], { begin: [i, j], end: [i + 1, j + 1] }), [1, 1, 1]);
      const uj = bind("slice", [v.u3], { begin: [0, j, 0], end: [v.u3.shape[0]!, j + 1, v.u3.shape[2]!] });
      p = mul(p, where(greater(sharing, 0), uj, 1));
    }
    out.push(bind("broadcastTo", [p], { shape: [v.u3.shape[0]!, 1, v.u3.shape[2]!] }));
  }
  return bind("concat", out, { axis: 1 });
}

/** [pre, N, post]: the product of each cell's updates (1 where none). */
function cellProduct(v: ScatterView): Tensor {
  const n = v.incidence.shape[1]!;
  const cells: Tensor[] = [];
  for (let c = 0; c < n; c++) {
    let p: Tensor = astype(tensor(1), v.x3.dtype);
    for (let j = 0; j < v.incidence.shape[0]!; j++) {
      const hit = reshape(bind("slice", [v.incidence], { begin: [j, c], end: [j + 1, c + 1] }), [1, 1, 1]);
      const uj = bind("slice", [v.u3], { begin: [0, j, 0], end: [v.u3.shape[0]!, j + 1, v.u3.shape[2]!] });
      p = mul(p, where(greater(hit, 0), uj, 1));
    }
    cells.push(bind("broadcastTo", [p], { shape: [v.x3.shape[0]!, 1, v.x3.shape[2]!] }));
  }
  return bind("concat", cells, { axis: 1 });
}

/** Winner masks and counts of a scatterMin/Max: ties share (1/k each). */
function extremumMasks(v: ScatterView, y: Tensor): { wx: Tensor; wu: Tensor; count: Tensor } {
  const y3 = reshape(y, v.x3.shape.slice());
  const wx = astype(equal(v.x3, y3), v.x3.dtype);
  const wu = astype(equal(v.u3, toUpdates(v, y3)), v.x3.dtype);
  return { wx, wu, count: add(wx, toCells(v, wu)) };
}

// ── the math family (issue 17): derivative factors, written from the math (not from ir's rules) ──

type MathUnary = "asin" | "acos" | "atan" | "sinh" | "cosh" | "asinh" | "acosh" | "atanh" | "erf" | "erfc" | "erfinv" | "lgamma";
type MathUnaryMore = "log2" | "log10" | "exp2" | "cbrt" | "polygamma";
type MathBinary = "fmod" | "remainder" | "hypot";
const SQRT_PI = Math.sqrt(Math.PI);

/** dy/dx of the math family's smooth unary primitives (x the input, y the output). */
const MATH_UNARY: { [P in MathUnary | MathUnaryMore]: (x: Tensor, y: Tensor, params: Params<P>) => Tensor } = {
  asin: (x) => pow(sub(1, mul(x, x)), -0.5),
  acos: (x) => neg(pow(sub(1, mul(x, x)), -0.5)),
  atan: (x) => div(1, add(1, mul(x, x))),
  sinh: (x) => mul(add(exp(x), exp(neg(x))), 0.5),
  cosh: (x) => mul(sub(exp(x), exp(neg(x))), 0.5),
  asinh: (x) => pow(add(mul(x, x), 1), -0.5),
  acosh: (x) => pow(sub(mul(x, x), 1), -0.5),
  atanh: (x) => div(1, sub(1, mul(x, x))),
  erf: (x) => mul(exp(neg(mul(x, x))), 2 / SQRT_PI),
  erfc: (x) => mul(exp(neg(mul(x, x))), -2 / SQRT_PI),
  erfinv: (_x, y) => mul(exp(mul(y, y)), SQRT_PI / 2),
  lgamma: (x) => polygamma(0, x),
  polygamma: (x, _y, { n }) => polygamma(n + 1, x),
  log2: (x) => div(1, mul(x, Math.LN2)),
  log10: (x) => div(1, mul(x, Math.LN10)),
  exp2: (_x, y) => mul(y, Math.LN2),
  cbrt: (_x, y) => div(1, mul(mul(y, y), 3)),
};

/** (∂y/∂a, ∂y/∂b) of the math family's smooth binary primitives. */
const MATH_BINARY: { [P in MathBinary]: (a: Tensor, b: Tensor, y: Tensor) => [Tensor | number, Tensor] } = {
  // fmod(a, b) = a − trunc(a/b)·b
  fmod: (a, b) => [1, neg(trunc(div(a, b)))],
  // remainder(a, b) = a − floor(a/b)·b
  remainder: (a, b) => [1, neg(floor(div(a, b)))],
  hypot: (a, b, y) => [div(a, y), div(b, y)],
};

function mathJvpRules(): { [P in MathUnary | MathUnaryMore | MathBinary]: JvpRule<P> } {
  const u =
    <P extends MathUnary | MathUnaryMore>(p: P): JvpRule<P> =>
    ([x], [t], y, params) =>
      m0(t!, MATH_UNARY[p](x!, y, params));
  const b =
    <P extends MathBinary>(p: P): JvpRule<P> =>
    ([x0, x1], [ta, tb], y) => {
      const [da, db] = MATH_BINARY[p](x0!, x1!, y);
      return add(typeof da === "number" ? mul(ta!, da) : m0(ta!, da), m0(tb!, db));
    };
  return {
    ...{ asin: u("asin"), acos: u("acos"), atan: u("atan"), sinh: u("sinh"), cosh: u("cosh"), asinh: u("asinh") },
    ...{ acosh: u("acosh"), atanh: u("atanh"), erf: u("erf"), erfc: u("erfc"), erfinv: u("erfinv"), lgamma: u("lgamma") },
    ...{ polygamma: u("polygamma"), log2: u("log2"), log10: u("log10"), exp2: u("exp2"), cbrt: u("cbrt") },
    ...{ fmod: b("fmod"), remainder: b("remainder"), hypot: b("hypot") },
  };
}

function mathVjpRules(): { [P in MathUnary | MathUnaryMore | MathBinary]: VjpRule<P> } {
  const u =
    <P extends MathUnary | MathUnaryMore>(p: P): VjpRule<P> =>
    (g, [x], y, params) => [m0(g, MATH_UNARY[p](x!, y, params))];
  const b =
    <P extends MathBinary>(p: P): VjpRule<P> =>
    (g, [x0, x1], y) => {
      const [da, db] = MATH_BINARY[p](x0!, x1!, y);
      return [unbroadcast(typeof da === "number" ? mul(g, da) : m0(g, da), x0!.shape), unbroadcast(m0(g, db), x1!.shape)];
    };
  return {
    ...{ asin: u("asin"), acos: u("acos"), atan: u("atan"), sinh: u("sinh"), cosh: u("cosh"), asinh: u("asinh") },
    ...{ acosh: u("acosh"), atanh: u("atanh"), erf: u("erf"), erfc: u("erfc"), erfinv: u("erfinv"), lgamma: u("lgamma") },
    ...{ polygamma: u("polygamma"), log2: u("log2"), log10: u("log10"), exp2: u("exp2"), cbrt: u("cbrt") },
    ...{ fmod: b("fmod"), remainder: b("remainder"), hypot: b("hypot") },
  };
}

// ── forward mode ───────────────────────────────────────────────────────────────────────────

class DualTracer extends Tracer {
  constructor(
    readonly trace: DualTrace,
    readonly primal: Tensor,
    readonly tangent: Tensor,
  ) {
    super(primal);
  }
  concrete(): Tensor {
    if (this.trace.fault === "tracing") throw new ConcretizationError("ref-forward: cannot read a traced value; use where(cond, a, b)");
    return this.primal instanceof Tracer ? this.primal.concrete() : this.primal;
  }
}

type JvpRule<P extends Primitive> = (xs: Tensor[], ts: Tensor[], y: Tensor, params: Params<P>, out: Aval) => Tensor;

function jvpRules(fault: Fault): { [P in Primitive]: JvpRule<P> } {
  const zero: JvpRule<Primitive> = (_xs, _ts, _y, _p, out) => zerosOf(out);
  const same =
    <P extends Primitive>(prim: P): JvpRule<P> =>
    (_xs, ts, _y, params) =>
      bind(prim, ts, params);
  return {
    // d(−x) = −dx
    neg: (_x, [t]) => neg(t!),
    // d exp x = exp x · dx
    exp: ([x], [t], y) =>
      fault === "expNotDifferentiable"
        ? m0(t!, new Tensor(x!.dtype, x!.shape.slice(), Float64Array.from(y.data as ArrayLike<number>)))
        : m0(t!, y),
    // d log x = dx / x
    log: ([x], [t]) => m0(t!, div(1, x!)),
    // d log1p x = dx / (1 + x)
    log1p: ([x], [t]) => m0(t!, div(1, add(x!, 1))),
    // d expm1 x = (y + 1) dx
    expm1: (_x, [t], y) => m0(t!, add(y, 1)),
    // d sin x = cos x dx
    sin: ([x], [t]) => m0(t!, cos(x!)),
    // d cos x = −sin x dx
    cos: ([x], [t]) => neg(m0(t!, sin(x!))),
    // d tanh x = (1 − y²) dx
    tanh: (_x, [t], y) => m0(t!, sub(1, fault === "tanhDerivative" ? y : mul(y, y))),
    // d √x = dx / (2√x)
    sqrt: (_x, [t], y) => m0(t!, div(0.5, y)),
    // d|x| = sign(x) dx (sign 0 = 0)
    abs: ([x], [t]) => m0(t!, sign(x!)),
    sign: zero,
    // d(a + b) = da + db
    add: (_x, [ta, tb]) => add(ta!, tb!),
    sub: (_x, [ta, tb]) => sub(ta!, tb!),
    // d(ab) = da b + a db
    mul: ([a, b], [ta, tb]) => add(m0(ta!, b!), m0(tb!, a!)),
    // d(a/b) = da / b − db · y / b
    div: ([, b], [ta, tb], y) => sub(m0(ta!, div(1, b!)), m0(tb!, div(y, b!))),
    // d aᵇ = b aᵇ⁻¹ da + log(a) aᵇ db
    pow: ([a, b], [ta, tb]) => add(m0(ta!, powBase(a!, b!)), m0(tb!, powExponent(a!, b!))),
    // ties: half to each side
    maximum: ([a, b], [ta, tb]) => {
      const [wa, wb] = tieWeights(a!, b!, false);
      return add(m0(ta!, wa), m0(tb!, wb));
    },
    minimum: ([a, b], [ta, tb]) => {
      const [wb, wa] = tieWeights(a!, b!, false);
      return add(m0(ta!, wa), m0(tb!, wb));
    },
    // d atan2(a, b) = (b da − a db) / (a² + b²)
    atan2: ([a, b], [ta, tb]) => {
      const r = add(mul(a!, a!), mul(b!, b!));
      return sub(m0(ta!, div(b!, r)), m0(tb!, div(a!, r)));
    },
    // d mulNoNan(a, b) = mulNoNan(da, b) + mulNoNan(a, db)
    mulNoNan: ([a, b], [ta, tb]) => add(m0(ta!, b!), m0(tb!, a!)),
    greater: zero,
    greaterEqual: zero,
    less: zero,
    lessEqual: zero,
    equal: zero,
    notEqual: zero,
    // d where(c, a, b) = where(c, da, db)
    where: ([c], [, ta, tb]) => where(c!, ta!, tb!),
    cast: (_x, [t], _y, params, out) => (isFloat(params.dtype) ? bind("cast", [t!], params) : zerosOf(out)),
    reduceSum: same("reduceSum"),
    // ties: the mean of the tied tangents
    reduceMax: ([x], [t], y, { axes }) => {
      const mask = bind("cast", [equal(x!, reshape(y, keepShape(x!.shape, axes)))], { dtype: x!.dtype });
      return div(bind("reduceSum", [mul(t!, mask)], { axes }), bind("reduceSum", [mask], { axes }));
    },
    argmax: zero,
    reshape: same("reshape"),
    transpose: same("transpose"),
    broadcastTo: same("broadcastTo"),
    slice: same("slice"),
    pad: same("pad"),
    concat: same("concat"),
    gather: ([, idx], [t], _y, params) => bind("gather", [t!, idx!], params),
    scatterAdd: ([, idx], [t], _y, params) => bind("scatterAdd", [t!, idx!], params),
    // d(ab) = da b + a db
    matmul: ([a, b], [ta, tb]) => add(bind("matmul", [ta!, b!], {}), bind("matmul", [a!, tb!], {})),
    stopGradient: zero,
    checkIndices: zero,
    // family: reductions, scans and sorting (issue 17)
    // hᵢ = aᵢhᵢ₋₁ + bᵢ, so dhᵢ = aᵢdhᵢ₋₁ + (daᵢhᵢ₋₁ + dbᵢ): the same scan driven by da·h₋₁ + db
    linearScan: ([a], [ta, tb], y, params) => bind("linearScan", [a!, add(m0(ta!, stepBack(y, params.axis, params.reverse)), tb!)], params),
    argcummax: zero,
    argsort: zero,
    // family: indexing (issue 17, ops-index)
    // d scatterMax(x, u) = (dx·[x wins] + Eᵀ(du·[u wins])) / number of winners
    scatterMax: ([x, u, idx], [tx, tu], y, { axis }) => scatterExtremumJvp(x!, u!, idx!, tx!, tu!, y, axis),
    // family: convolution and pooling (issue 18): reference-conv.ts
    conv: convJvp,
    ...windowJvpRules,
    scatterMin: ([x, u, idx], [tx, tu], y, { axis }) => scatterExtremumJvp(x!, u!, idx!, tx!, tu!, y, axis),
    // d (x · Π u) = dx · Π u + x · Eᵀ(du · Π other updates)
    scatterMul: ([x, u, idx], [tx, tu], _y, { axis }) => {
      const v = scatterView(x!, u!, idx!, axis);
      const t = scatterView(tx!, tu!, idx!, axis);
      const dy = add(mul(t.x3, cellProduct(v)), mul(v.x3, toCells(v, mul(t.u3, othersProduct(v)))));
      return reshape(dy, x!.shape.slice());
    },
    // the math family
    ...mathJvpRules(),
    floor: zero,
    ceil: zero,
    round: zero,
    trunc: zero,
    floorDivide: zero,
  };
}

function scatterExtremumJvp(x: Tensor, u: Tensor, idx: Tensor, tx: Tensor, tu: Tensor, y: Tensor, axis: number): Tensor {
  const v = scatterView(x, u, idx, axis);
  const t = scatterView(tx, tu, idx, axis);
  const { wx, wu, count } = extremumMasks(v, y);
  return reshape(div(add(mul(t.x3, wx), toCells(v, mul(t.u3, wu))), count), x.shape.slice());
}

class DualTrace extends Trace {
  readonly name = "ref-forward";
  constructor(
    level: number,
    readonly fault: Fault,
    readonly rules: { [P in Primitive]: JvpRule<P> },
  ) {
    super(level);
  }
  constant(value: Tensor): Tracer {
    // the mutant lets a lower-level dual number keep its tangent (perturbation confusion)
    if (this.fault === "perturbationConfusion" && value instanceof DualTracer) return new DualTracer(this, value.primal, value.tangent);
    return new DualTracer(this, value, zerosOf(value));
  }
  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>, out: Aval): Tracer {
    const xs = inputs.map((t) => (t as DualTracer).primal);
    const ts = inputs.map((t) => (t as DualTracer).tangent);
    const y = bind(prim, xs, params);
    const t = (this.rules[prim] as JvpRule<P>)(xs, ts, y, params, out);
    if (config.debugNans) {
      checkNans(`ref-forward: ${prim}`, xs, y);
      checkNans(`ref-forward: tangent of ${prim}`, [...xs, ...ts], t);
    }
    return new DualTracer(this, y, t);
  }
  override processCustomJvp(rule: CustomJvpRule, inputs: Tracer[]): Tensor {
    if (this.fault === "ignoreCustomJvp") return rule.fun(...inputs);
    const [y, t] = checkCustomRule(
      "jvp",
      rule,
      rule.jvp(
        inputs.map((d) => (d as DualTracer).primal),
        inputs.map((d) => (d as DualTracer).tangent),
      ),
    );
    return new DualTracer(this, y, t);
  }
  override processCustomVjp(rule: CustomVjpRule, inputs: Tracer[]): Tensor {
    // forward mode of a customVjp function is an error (its bwd need not be linear)
    if (!inputs.every((d) => isConcreteZero((d as DualTracer).tangent))) throw new ForwardModeError(rule);
    const y = bindCustomVjp(
      rule,
      inputs.map((d) => (d as DualTracer).primal),
    );
    return new DualTracer(this, y, zerosOf(y));
  }
}

function forwardJvp(fault: Fault, rules: { [P in Primitive]: JvpRule<P> }, f: FlatFunction, primals: Tensor[], tangents: Tensor[]) {
  return withTrace(
    (level) => new DualTrace(level, fault, rules),
    (trace) => {
      const outs = f(primals.map((p, i) => new DualTracer(trace, p, tangents[i]!)));
      const mine = (o: Tensor): o is DualTracer => o instanceof DualTracer && o.trace === trace;
      return {
        outputs: outs.map((o) => (mine(o) ? o.primal : o)),
        tangents: outs.map((o) => (mine(o) ? o.tangent : zerosOf(o))),
      };
    },
  );
}

/** Forward-mode reference engine; its vjp transposes a full Jacobian built column by column. */
export function forwardEngine(fault: Fault = "none"): Engine {
  return defineEngine(forwardCore(fault));
}

export function forwardCore(fault: Fault = "none"): EngineCore {
  const rules = jvpRules(fault);
  return {
    name: fault === "none" ? "ref-forward" : `ref-forward[${fault}]`,
    jacobianMode: "forward",
    jvp: (f, primals, tangents) => forwardJvp(fault, rules, f, primals, tangents),
    vjp: (f, primals) => {
      const outputs = forwardJvp(fault, rules, f, primals, primals.map(zerosOf)).outputs;
      // columns[leaf][element] = tangent outputs for that basis direction
      const columns = primals.map((p, leaf) =>
        Array.from({ length: p.size }, (_, j) => {
          const ts = primals.map((q, l) => {
            const z = zerosOf(q);
            if (l === leaf) z.data[j] = 1;
            return z;
          });
          return forwardJvp(fault, rules, f, primals, ts).tangents;
        }),
      );
      const pullback = (cts: Tensor[]) =>
        primals.map((p, leaf) => {
          if (p.size === 0) return zerosOf(p);
          const entries = columns[leaf]!.map((col) => col.reduce<Tensor>((s, t, o) => add(s, sum(m0(t, cts[o]!))), zeros([], p.dtype)));
          return reshape(stack(entries), p.shape);
        });
      return { outputs, pullback };
    },
  };
}

// ── reverse mode ───────────────────────────────────────────────────────────────────────────

class TapeTracer extends Tracer {
  constructor(
    readonly trace: TapeTrace,
    readonly primal: Tensor,
    readonly id: number,
  ) {
    super(primal);
  }
  concrete(): Tensor {
    return this.primal instanceof Tracer ? this.primal.concrete() : this.primal;
  }
}

interface TapeNode {
  readonly inputs: number[];
  readonly backward: (g: Tensor) => (Tensor | undefined)[];
}

type VjpRule<P extends Primitive> = (g: Tensor, xs: Tensor[], y: Tensor, params: Params<P>) => (Tensor | undefined)[];

function vjpRules(fault: Fault): { [P in Primitive]: VjpRule<P> } {
  const none: VjpRule<Primitive> = (_g, xs) => xs.map(() => undefined);
  const unary =
    <P extends Primitive>(d: (x: Tensor, y: Tensor) => Tensor): VjpRule<P> =>
    (g, [x], y) => [m0(g, d(x!, y))];
  return {
    neg: (g) => [neg(g)],
    exp: unary((_x, y) => y),
    log: unary((x) => div(1, x)),
    log1p: unary((x) => div(1, add(x, 1))),
    expm1: unary((_x, y) => add(y, 1)),
    sin: unary((x) => cos(x)),
    cos: unary((x) => neg(sin(x))),
    tanh: unary((_x, y) => sub(1, mul(y, y))),
    sqrt: unary((_x, y) => div(0.5, y)),
    // |x|' = sign x, so abs'(0) = 0
    abs: unary((x) => (fault === "absZeroOne" ? where(less(x, 0), -1, 1) : sign(x))),
    sign: none,
    add: (g, [a, b]) => [unbroadcast(g, a!.shape), fault === "dropBroadcastReduction" ? g : unbroadcast(g, b!.shape)],
    sub: (g, [a, b]) => [unbroadcast(g, a!.shape), unbroadcast(neg(g), b!.shape)],
    mul: (g, [a, b]) => [unbroadcast(m0(g, b!), a!.shape), unbroadcast(m0(g, a!), b!.shape)],
    div: (g, [a, b], y) => [unbroadcast(m0(g, div(1, b!)), a!.shape), unbroadcast(neg(m0(g, div(y, b!))), b!.shape)],
    pow: (g, [a, b]) => [unbroadcast(m0(g, powBase(a!, b!)), a!.shape), unbroadcast(m0(g, powExponent(a!, b!)), b!.shape)],
    maximum: (g, [a, b]) => {
      const [wa, wb] = tieWeights(a!, b!, fault === "maximumTieFull");
      return [unbroadcast(m0(g, wa), a!.shape), unbroadcast(m0(g, wb), b!.shape)];
    },
    minimum: (g, [a, b]) => {
      const [wb, wa] = tieWeights(a!, b!, fault === "maximumTieFull");
      return [unbroadcast(m0(g, wa), a!.shape), unbroadcast(m0(g, wb), b!.shape)];
    },
    atan2: (g, [a, b]) => {
      const r = add(mul(a!, a!), mul(b!, b!));
      return [unbroadcast(m0(g, div(b!, r)), a!.shape), unbroadcast(neg(m0(g, div(a!, r))), b!.shape)];
    },
    mulNoNan: (g, [a, b]) => [unbroadcast(m0(g, b!), a!.shape), unbroadcast(m0(g, a!), b!.shape)],
    greater: none,
    greaterEqual: none,
    less: none,
    lessEqual: none,
    equal: none,
    notEqual: none,
    where: (g, [c, a, b]) => [undefined, unbroadcast(where(c!, g, 0), a!.shape), unbroadcast(where(c!, 0, g), b!.shape)],
    cast: (g, [x]) => [isFloat(x!.dtype) ? bind("cast", [g], { dtype: x!.dtype }) : undefined],
    reduceSum: (g, [x], _y, { axes }) => [bind("broadcastTo", [reshape(g, keepShape(x!.shape, axes))], { shape: x!.shape.slice() })],
    reduceMax: (g, [x], y, { axes }) => {
      const keep = keepShape(x!.shape, axes);
      const mask = bind("cast", [equal(x!, reshape(y, keep))], { dtype: x!.dtype });
      const share = fault === "reduceMaxTieFull" ? g : div(g, bind("reduceSum", [mask], { axes }));
      return [mul(mask, reshape(share, keep))];
    },
    argmax: none,
    reshape: (g, [x]) => [reshape(g, x!.shape)],
    transpose: (g, _x, _y, { perm }) => {
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return [bind("transpose", [g], { perm: inverse })];
    },
    broadcastTo: (g, [x]) => [unbroadcast(g, x!.shape)],
    slice: (g, [x], _y, { begin, end }) => [bind("pad", [g], { low: begin.slice(), high: end.map((e, i) => x!.shape[i]! - e) })],
    pad: (g, [x], _y, { low }) => [bind("slice", [g], { begin: low.slice(), end: low.map((l, i) => l + x!.shape[i]!) })],
    concat: (g, xs, _y, { axis }) => {
      let offset = 0;
      return xs.map((x) => {
        const begin = g.shape.map(() => 0);
        const end = g.shape.slice();
        begin[axis] = offset;
        end[axis] = offset + x.shape[axis]!;
        offset += x.shape[axis]!;
        return bind("slice", [g], { begin, end });
      });
    },
    gather: (g, [x, idx], _y, { axis }) => [bind("scatterAdd", [g, idx!], { axis, size: x!.shape[axis]! }), undefined],
    scatterAdd: (g, [, idx], _y, { axis }) => [bind("gather", [g, idx!], { axis }), undefined],
    matmul: (g, [a, b]) => {
      const swap = (t: Tensor) =>
        bind("transpose", [t], { perm: t.shape.map((_, i) => (i === t.rank - 2 ? t.rank - 1 : i === t.rank - 1 ? t.rank - 2 : i)) });
      const ga = bind("matmul", [g, swap(b!)], {});
      const gb = bind("matmul", [fault === "matmulTranspose" ? a! : swap(a!), g], {});
      return [unbroadcast(ga, a!.shape), unbroadcast(gb, b!.shape)];
    },
    stopGradient: (g) => [fault === "stopGradientLeaks" ? g : undefined],
    checkIndices: none,
    // family: reductions, scans and sorting (issue 17)
    // b̄ⱼ = Σᵢ ∂hᵢ/∂bⱼ ḡᵢ: the scan of g the other way with the coefficient one step later (b̄ⱼ = gⱼ + aⱼ₊₁b̄ⱼ₊₁); āᵢ = b̄ᵢhᵢ₋₁
    linearScan: (g, [a], y, { axis, reverse }) => {
      const full = bind("broadcastTo", [a!], { shape: y.shape.slice() });
      const gb = bind("linearScan", [stepBack(full, axis, 1 - reverse), g], { axis, reverse: 1 - reverse });
      return [unbroadcast(m0(gb, stepBack(y, axis, reverse)), a!.shape), gb];
    },
    argcummax: none,
    argsort: none,
    // family: indexing (issue 17, ops-index)
    scatterMax: (g, [x, u, idx], y, { axis }) => scatterExtremumVjp(g, x!, u!, idx!, y, axis),
    // family: convolution and pooling (issue 18): reference-conv.ts
    conv: convVjp,
    ...windowVjpRules,
    scatterMin: (g, [x, u, idx], y, { axis }) => scatterExtremumVjp(g, x!, u!, idx!, y, axis),
    // x̄ = ȳ · Π u, ū = E(ȳ · x) · Π other updates
    scatterMul: (g, [x, u, idx], _y, { axis }) => {
      const v = scatterView(x!, u!, idx!, axis);
      const g3 = reshape(g, v.x3.shape.slice());
      return [
        reshape(m0(g3, cellProduct(v)), x!.shape.slice()),
        reshape(m0(toUpdates(v, mul(g3, v.x3)), othersProduct(v)), u!.shape.slice()),
        undefined,
      ];
    },
    // the math family
    ...mathVjpRules(),
    floor: none,
    ceil: none,
    round: none,
    trunc: none,
    floorDivide: none,
  };
}

/** x̄ = ȳ·[x wins]/k, ū = E(ȳ/k)·[u wins], k the number of winners of the cell. */
function scatterExtremumVjp(g: Tensor, x: Tensor, u: Tensor, idx: Tensor, y: Tensor, axis: number): (Tensor | undefined)[] {
  const v = scatterView(x, u, idx, axis);
  const { wx, wu, count } = extremumMasks(v, y);
  const share = div(reshape(g, v.x3.shape.slice()), count);
  return [reshape(m0(share, wx), x.shape.slice()), reshape(m0(toUpdates(v, share), wu), u.shape.slice()), undefined];
}

class TapeTrace extends Trace {
  readonly name = "ref-reverse";
  readonly nodes: TapeNode[] = [];
  constructor(
    level: number,
    readonly rules: { [P in Primitive]: VjpRule<P> },
    /** The tape of the reference jvp (which reads the Jacobian off pullbacks): it stands for forward mode. */
    readonly forwardMode = false,
  ) {
    super(level);
  }
  newVariable(primal: Tensor, node: TapeNode): TapeTracer {
    this.nodes.push(node);
    return new TapeTracer(this, primal, this.nodes.length - 1);
  }
  constant(value: Tensor): Tracer {
    return new TapeTracer(this, value, -1);
  }
  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>): Tracer {
    const xs = inputs.map((t) => (t as TapeTracer).primal);
    const y = bind(prim, xs, params);
    if (config.debugNans) checkNans(`ref-reverse: ${prim}`, xs, y);
    const rule = this.rules[prim] as VjpRule<P>;
    const backward = (g: Tensor) => {
      const cts = rule(g, xs, y, params);
      if (config.debugNans) cts.forEach((c) => c && checkNans(`ref-reverse: backward pass of ${prim}`, [g, ...xs], c));
      return cts;
    };
    return this.newVariable(y, { inputs: inputs.map((t) => (t as TapeTracer).id), backward });
  }
  override processCustomVjp(rule: CustomVjpRule, inputs: Tracer[]): Tensor {
    // the reference jvp contracts pullback rows: a customVjp rule there would be guessed linear
    if (this.forwardMode && inputs.some((t) => (t as TapeTracer).id >= 0)) throw new ForwardModeError(rule);
    const xs = inputs.map((t) => (t as TapeTracer).primal);
    const [y, residuals] = checkCustomRule("fwd", rule, rule.fwd(...xs));
    const backward = (g: Tensor) => checkCustomRule("bwd", rule, rule.bwd(residuals, g), xs).map((c) => c ?? undefined);
    return this.newVariable(y, { inputs: inputs.map((t) => (t as TapeTracer).id), backward });
  }
  override processCustomJvp(rule: CustomJvpRule, inputs: Tracer[]): Tensor {
    const xs = inputs.map((t) => (t as TapeTracer).primal);
    const y = rule.fun(...xs);
    // transpose the jvp: ct_a[j] = ⟨jvp(e_{a,j}), g⟩
    const backward = (g: Tensor) =>
      xs.map((x, a) => {
        if (x.size === 0) return zerosOf(x);
        const entries = Array.from({ length: x.size }, (_, j) => {
          const ts = xs.map((q, l) => {
            const z = zerosOf(q);
            if (l === a) z.data[j] = 1;
            return z;
          });
          return sum(mul(checkCustomRule("jvp", rule, rule.jvp(xs, ts), y)[1], g));
        });
        return reshape(stack(entries), x.shape);
      });
    return this.newVariable(y, { inputs: inputs.map((t) => (t as TapeTracer).id), backward });
  }
}

function reverseVjp(rules: { [P in Primitive]: VjpRule<P> }, f: FlatFunction, primals: Tensor[], forwardMode = false) {
  return withTrace(
    (level) => new TapeTrace(level, rules, forwardMode),
    (trace) => {
      const ins = primals.map((p) => trace.newVariable(p, { inputs: [], backward: () => [] }));
      const outs = f(ins);
      const mine = (o: Tensor): o is TapeTracer => o instanceof TapeTracer && o.trace === trace;
      const outputs = outs.map((o) => (mine(o) ? o.primal : o));
      const nodes = trace.nodes;
      const pullback = (cts: Tensor[]): Tensor[] => {
        const adj = new Map<number, Tensor>();
        const accumulate = (id: number, g: Tensor) => {
          if (id < 0) return;
          const prev = adj.get(id);
          adj.set(id, prev === undefined ? g : add(prev, g));
        };
        outs.forEach((o, i) => {
          if (mine(o)) accumulate(o.id, cts[i]!);
        });
        for (let id = nodes.length - 1; id >= primals.length; id--) {
          const g = adj.get(id);
          if (g === undefined) continue;
          const node = nodes[id]!;
          node.backward(g).forEach((c, k) => {
            if (c !== undefined) accumulate(node.inputs[k]!, c);
          });
        }
        return primals.map((p, i) => adj.get(i) ?? zerosOf(p));
      };
      return { outputs, pullback };
    },
  );
}

/** Reverse-mode (tape) reference engine; its jvp contracts Jacobian rows from the pullback. */
export function reverseEngine(fault: Fault = "none"): Engine {
  return defineEngine(reverseCore(fault));
}

/** jvp from the (correct) forward engine, vjp from the reverse engine with `fault`: independent modes. */
export function hybridEngine(fault: Fault = "none"): Engine {
  const forward = forwardCore();
  const reverse = reverseCore(fault);
  return defineEngine({ name: `ref-hybrid[${fault}]`, jvp: forward.jvp, vjp: reverse.vjp });
}

export function reverseCore(fault: Fault = "none"): EngineCore {
  const rules = vjpRules(fault);
  return {
    name: fault === "none" ? "ref-reverse" : `ref-reverse[${fault}]`,
    jacobianMode: "reverse",
    vjp: (f, primals) => reverseVjp(rules, f, primals),
    jvp: (f, primals, tangents) => {
      const { outputs, pullback } = reverseVjp(rules, f, primals, true);
      const tangentsOut = outputs.map((y, o) => {
        if (!isFloat(y.dtype)) return zerosOf(y);
        if (y.size === 0) return zeros(y.shape, y.dtype);
        const entries = Array.from({ length: y.size }, (_, i) => {
          const cts = outputs.map((z, l) => {
            const e = zerosOf(z);
            if (l === o) e.data[i] = 1;
            return e;
          });
          return pullback(cts).reduce<Tensor>((s, c, a) => add(s, sum(mul(c, tangents[a]!))), zeros([], y.dtype));
        });
        return reshape(stack(entries), y.shape);
      });
      return { outputs, tangents: tangentsOut };
    },
  };
}
