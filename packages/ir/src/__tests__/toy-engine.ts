/**
 * A toy engine for testing `defineEngine`'s plumbing without a real engine: forward mode with
 * dual numbers (a Trace whose tracers carry a primal and a tangent), and a "reverse" mode that
 * builds the Jacobian from forward passes and transposes it. Rules exist for the primitives the
 * tests use; each is written with ir ops on the level below, so the toy nests (grad of grad).
 */
import {
  type Tensor,
  Trace,
  Tracer,
  add,
  bind,
  cos,
  withTrace,
  defineEngine,
  div,
  mul,
  neg,
  reshape,
  sin,
  stack,
  sub,
  sum,
  zeros,
  type Aval,
  type EngineCore,
  type Params,
  type Primitive,
} from "../index.js";

class DualTracer extends Tracer {
  constructor(
    readonly trace: DualTrace,
    readonly primal: Tensor,
    readonly tangent: Tensor,
  ) {
    super(primal);
  }

  concrete(): Tensor {
    return this.primal;
  }
}

type JvpRule = (x: Tensor[], dx: Tensor[], y: Tensor, params: never) => Tensor;
/** Linear primitives apply to the tangent as they do to the value. */
const linear =
  (prim: Primitive): JvpRule =>
  (_x, dx, _y, params) =>
    bind(prim, dx, params);

// Partial on purpose: a test engine needs rules only for the primitives its tests use.
const RULES: Partial<Record<Primitive, JvpRule>> = {
  // d(−x) = −dx
  neg: (_x, [dx]) => neg(dx!),
  // d(x + y) = dx + dy
  add: (_x, [dx, dy]) => add(dx!, dy!),
  // d(x − y) = dx − dy
  sub: (_x, [dx, dy]) => sub(dx!, dy!),
  // d(xy) = dx·y + x·dy
  mul: ([x, y], [dx, dy]) => add(mul(dx!, y!), mul(x!, dy!)),
  // d(x/y) = dx/y − (x/y)·dy/y
  div: ([, y], [dx, dy], out) => div(sub(dx!, mul(out, dy!)), y!),
  // d(eˣ) = eˣ dx
  exp: (_x, [dx], out) => mul(out, dx!),
  // d(log x) = dx / x
  log: ([x], [dx]) => div(dx!, x!),
  // d(sin x) = cos x dx
  sin: ([x], [dx]) => mul(cos(x!), dx!),
  // d(cos x) = −sin x dx
  cos: ([x], [dx]) => neg(mul(sin(x!), dx!)),
  // d(√x) = dx / (2√x)
  sqrt: (_x, [dx], out) => div(dx!, mul(out, 2)),
  // d(where(c, a, b)) = where(c, da, db)
  where: ([c], [, da, db]) => bind("where", [c!, da!, db!], {}),
  // d(stopGradient x) = 0
  stopGradient: ([x]) => zeros(x!.shape, x!.dtype),
  // comparisons are piecewise constant: a zero (bool) tangent that nothing reads
  greater: (_x, _dx, out) => zeros(out.shape, out.dtype),
  less: (_x, _dx, out) => zeros(out.shape, out.dtype),
  // d(A·B) = dA·B + A·dB
  matmul: ([a, b], [da, db]) => add(bind("matmul", [da!, b!], {}), bind("matmul", [a!, db!], {})),
  // linear primitives apply to the tangent as they are
  reduceSum: linear("reduceSum"),
  reshape: linear("reshape"),
  broadcastTo: linear("broadcastTo"),
  transpose: linear("transpose"),
  slice: linear("slice"),
  pad: linear("pad"),
  concat: linear("concat"),
  cast: linear("cast"),
};

class DualTrace extends Trace {
  readonly name = "toy";

  constant(value: Tensor): Tracer {
    return new DualTracer(this, value, zeros(value.shape, value.dtype));
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>, _out: Aval): Tracer {
    const x = inputs.map((t) => (t as DualTracer).primal);
    const dx = inputs.map((t) => (t as DualTracer).tangent);
    const y = bind(prim, x, params);
    const rule = RULES[prim];
    if (rule === undefined) throw new Error(`toy: no rule for ${prim}`);
    return new DualTracer(this, y, rule(x, dx, y, params as never));
  }
}

const withDual = <R>(body: (trace: DualTrace) => R): R => withTrace((level) => new DualTrace(level), body);

export const toyCore: EngineCore = {
  name: "toy",
  jvp(f, primals, tangents) {
    return withDual((trace) => {
      const outs = f(primals.map((p, i) => new DualTracer(trace, p, tangents[i]!)));
      const mine = (o: Tensor): o is DualTracer => o instanceof DualTracer && o.trace === trace;
      return {
        outputs: outs.map((o) => (mine(o) ? o.primal : o)),
        tangents: outs.map((o) => (mine(o) ? o.tangent : zeros(o.shape, o.dtype))),
      };
    });
  },
  vjp(f, primals) {
    const outputs = toyCore.jvp(
      f,
      primals,
      primals.map((p) => zeros(p.shape, p.dtype)),
    ).outputs;
    // columns[i][j]: the output tangents along the j-th basis vector of input i
    const columns = primals.map((p, i) =>
      Array.from({ length: p.size }, (_, j) => {
        const tangents = primals.map((q, l) => {
          const t = zeros(q.shape, q.dtype);
          if (l === i) t.data[j] = 1;
          return t;
        });
        return toyCore.jvp(f, primals, tangents).tangents;
      }),
    );
    const pullback = (cotangents: Tensor[]) =>
      primals.map((p, i) => {
        if (p.size === 0) return zeros(p.shape, p.dtype);
        const entries = columns[i]!.map((outs) =>
          outs.reduce<Tensor>((acc, t, o) => add(acc, sum(mul(t, cotangents[o]!))), zeros([], p.dtype)),
        );
        return reshape(stack(entries), p.shape);
      });
    return { outputs, pullback };
  },
};

export const toy = defineEngine(toyCore);
