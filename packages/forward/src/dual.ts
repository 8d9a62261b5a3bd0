/**
 * Dual numbers, vector mode. A `DualTracer` carries a primal (a value of the level below: a
 * concrete Tensor, or a tracer of an enclosing transformation) and `k` tangent directions stacked
 * in one tensor of shape `[k, ...shape]` — or `null`, the symbolic zero that constants carry, so
 * work on constants is skipped. The `DualTrace` interprets each primitive: it computes the primal
 * once, then all k tangents with the primitive's JVP rule from ir's definitions (on chunks of k
 * tangents, tangents.ts), or with a typed-array fast path derived from the same rules (fast.ts)
 * when everything is concrete.
 */
import {
  bind,
  bindCustomJvp,
  DEFINITIONS,
  internalError,
  isFloat,
  bindCustomVjp,
  checkCustomRule,
  checkNans,
  config,
  evalPrimitive,
  formatShape,
  ForwardModeError,
  fuse,
  hasExpression,
  LazyTensor,
  Tensor,
  Trace,
  Tracer,
  zeros,
  type Aval,
  type CustomJvpRule,
  type CustomVjpRule,
  type Params,
  type Primitive,
  withTrace,
} from "@chainrule/ir";
import { FAST_RULES, scalarFast } from "./fast.js";
import { Chunk, ChunkOps, type Tangent } from "./tangents.js";

/** A forward-mode value: primal plus k stacked tangents (`null` = all zero). */
export class DualTracer extends Tracer {
  constructor(
    readonly trace: DualTrace,
    /** The value, at the level below this trace. */
    readonly primal: Tensor,
    /** Tangents of shape `[k, ...primal.shape]`, or `null` for zero. */
    readonly tangent: Tangent,
  ) {
    super(primal);
  }

  concrete(): Tensor {
    const p = this.primal;
    return p instanceof Tracer ? p.concrete() : p;
  }
}

/** Called after each interpreted operation (the learner's trace uses it). */
export type Recorder = (op: string, inputs: readonly DualTracer[], output: DualTracer, params: unknown) => void;

export class DualTrace extends Trace {
  readonly name = "forward";
  /** Number of tangent directions carried by every tracer of this trace. */
  readonly k: number;
  /** Whether concrete operands may use the typed-array kernels of fast.ts. */
  readonly fast: boolean;
  recorder: Recorder | undefined;
  /** `[k]`: the shape of a scalar's tangents (shared). */
  private readonly scalarTangentShape: readonly number[];
  /** The linear operations ir's JVP rules apply to chunks of k tangents. */
  private readonly ops: ChunkOps;

  constructor(level: number, k: number, fast = true) {
    super(level);
    this.k = k;
    this.fast = fast;
    this.scalarTangentShape = [k];
    this.ops = new ChunkOps(k);
  }

  constant(value: Tensor): DualTracer {
    return new DualTracer(this, value, null);
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>, out: Aval): Tracer {
    if (out.shape.length === 0 && out.dtype === "float64" && this.fast && this.recorder === undefined && !config.debugNans) {
      // scalar code (W1): straight from the duals, nothing else to do
      const pair = scalarFast(prim, inputs as DualTracer[], this.k, this.scalarTangentShape);
      if (pair !== undefined) return new DualTracer(this, pair[0], pair[1]);
    }
    const n = inputs.length;
    const primals = new Array<Tensor>(n);
    const tangents = new Array<Tangent>(n);
    let anyTangent = false;
    let concrete = true;
    for (let i = 0; i < n; i++) {
      const x = inputs[i] as DualTracer;
      const p = x.primal;
      const t = x.tangent;
      primals[i] = p;
      tangents[i] = t;
      if (p instanceof Tracer) concrete = false;
      if (t !== null) {
        anyTangent = true;
        if (t instanceof Tracer) concrete = false;
      }
    }
    // eager fusion: the primal of an elementwise primitive on large concrete operands becomes a lazy
    // value, with one tangent direction its tangent too (ir's JVP rule through ChunkOps); with k > 1
    // directions the typed-array paths run (they read values at once), and slices take FAST_RULES'
    const fusing = concrete && out.shape.length !== 0 && this.recorder === undefined && !config.debugNans;
    const lazy = fusing && (!anyTangent || (this.k === 1 && hasExpression(prim))) ? fuse(prim, primals, params) : undefined;
    let result: DualTracer;
    if (!anyTangent) {
      // constants only: no tangent work at all
      const y = concrete ? (lazy ?? evalPrimitive(prim, primals, params, out)) : bind(prim, primals, params);
      result = new DualTracer(this, y, null);
    } else {
      let pair: [Tensor, Tensor] | undefined;
      if (concrete && this.fast && lazy === undefined) {
        if (out.shape.length === 0 && out.dtype === "float64")
          pair = scalarFast(prim, inputs as DualTracer[], this.k, this.scalarTangentShape);
        if (pair === undefined) pair = FAST_RULES[prim]?.(primals, tangents, out, this.k, params as never);
      }
      if (pair !== undefined) {
        result = new DualTracer(this, pair[0], pair[1]);
      } else {
        const y = concrete ? (lazy ?? evalPrimitive(prim, primals, params, out)) : bind(prim, primals, params);
        let dy: Chunk | null = null;
        if (isFloat(out.dtype)) {
          const dx = tangents.map((t) => (t === null ? null : new Chunk(t)));
          dy = DEFINITIONS[prim].jvp(dx, { x: primals, y, params }, this.ops);
        }
        result = new DualTracer(this, y, dy === null ? null : dy.value);
      }
      const dy = result.tangent;
      if (dy !== null) checkTangentShape(prim, dy, this.k, out);
    }
    if (config.debugNans) this.checkNans(prim, primals, tangents, result);
    if (this.recorder !== undefined) this.recorder(prim, inputs as DualTracer[], result, params);
    return result;
  }

  private checkNans(prim: string, primals: Tensor[], tangents: Tangent[], result: DualTracer): void {
    const primal = result.primal;
    if (!(primal instanceof Tracer))
      checkNans(
        `forward: ${prim}`,
        primals.filter((p) => !(p instanceof Tracer)),
        primal,
      );
    const tangent = result.tangent;
    if (tangent !== null && !(tangent instanceof Tracer)) {
      const given = [...primals, ...tangents.filter((t): t is Tensor => t !== null)].filter((t) => !(t instanceof Tracer));
      checkNans(`forward: tangent of ${prim}`, given, tangent);
    }
  }

  /**
   * customJvp: the user's rule is linear in the tangents, so one call gives all k directions:
   * it runs on dual tangents (zeros carrying the k stacked directions) in a nested pass, and the
   * tangent of its tangent output is the k output tangents. ir's `checkCustomRule` checks what
   * the rule returns (the same message in every engine).
   */
  override processCustomJvp(rule: CustomJvpRule, inputs: Tracer[]): Tensor {
    const duals = inputs as DualTracer[];
    const primals = duals.map((x) => x.primal);
    const y = bindCustomJvp(rule, primals);
    let result: DualTracer;
    if (duals.every((x) => x.tangent === null)) {
      result = new DualTracer(this, y, null);
    } else {
      const apply = (dxs: Tensor[]): Tensor[] => [checkCustomRule("jvp", rule, rule.jvp(primals, dxs), y)[1]];
      const zerosLike = primals.map((p) => zeros(p.shape, p.dtype));
      const pass = forwardPass(
        apply,
        zerosLike,
        duals.map((x) => x.tangent),
        this.k,
        this.fast,
      );
      result = new DualTracer(this, y, pass.tangents[0] ?? null);
    }
    if (this.recorder !== undefined) this.recorder("customJvp", duals, result, {});
    return result;
  }

  /**
   * customVjp: forward mode needs J·t, but the rule only gives cotangent ↦ bwd(cotangent), which
   * need not be linear (gradient clipping): with a non-zero tangent this is an error naming the
   * function (as in JAX). Without one the function runs at the level below, rule and all.
   */
  override processCustomVjp(rule: CustomVjpRule, inputs: Tracer[]): Tensor {
    const duals = inputs as DualTracer[];
    // checkpoint's rule: fun is differentiated as ordinary code
    if (rule.differentiableFun === true && duals.some((x) => x.tangent !== null)) return rule.fun(...inputs);
    if (duals.some((x) => x.tangent !== null)) throw new ForwardModeError(rule);
    const result = new DualTracer(
      this,
      bindCustomVjp(
        rule,
        duals.map((x) => x.primal),
      ),
      null,
    );
    if (this.recorder !== undefined) this.recorder("customVjp", duals, result, {});
    return result;
  }
}

/** One forward pass carrying `k` directions: the primal outputs and their stacked tangents. */
export function forwardPass(
  f: (inputs: Tensor[]) => Tensor[],
  primals: readonly Tensor[],
  seeds: readonly (Tensor | null)[],
  k: number,
  fast = true,
): { outputs: Tensor[]; tangents: (Tensor | null)[] } {
  return withTrace(
    (level) => new DualTrace(level, k, fast),
    (trace) => {
      const inputs = primals.map((p, i) => new DualTracer(trace, p, seeds[i] ?? null));
      const outs = f(inputs);
      const outputs: Tensor[] = [];
      const tangents: (Tensor | null)[] = [];
      for (const o of outs) {
        if (o instanceof DualTracer && o.trace === trace) {
          outputs.push(plain(o.primal));
          tangents.push(o.tangent === null ? null : plain(o.tangent));
        } else {
          outputs.push(plain(o));
          tangents.push(null);
        }
      }
      return { outputs, tangents };
    },
  );
}

/** A value handed back to the caller: a fused (lazy) one computed now, as a plain tensor on its result. */
function plain(t: Tensor): Tensor {
  return t instanceof LazyTensor ? new Tensor(t.dtype, t.shape, t.data) : t;
}

function checkTangentShape(prim: string, t: Tensor, k: number, out: Aval): void {
  const shape = t.shape;
  let ok = shape.length === out.shape.length + 1 && shape[0] === k && t.dtype === out.dtype;
  for (let i = 0; ok && i < out.shape.length; i++) ok = shape[i + 1] === out.shape[i];
  if (!ok) {
    throw internalError(
      `forward: tangent of ${prim} has type ${t.dtype}${formatShape(shape)}, expected ${out.dtype}${formatShape([k, ...out.shape])}`,
    );
  }
}
