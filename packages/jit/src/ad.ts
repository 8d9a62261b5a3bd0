/**
 * The JIT's two differentiation interpreters, on ir's trace machinery. Under the graph tracer
 * (jit compiling) they run on graph tracers, so the recorded graph IS the derivative graph;
 * called on tracers of an enclosing transformation they simply interpret, which is how
 * `grad(grad(grad(f)))` nests (the outermost call compiles one graph).
 *
 * - forward: `JvpTrace` carries a tangent beside each primal (null = symbolic zero).
 * - reverse: `VjpTrace` records a tape of closures over primals; the pullback walks it backwards.
 */
import { jvpControl, vjpControl, type JvpCore } from "./control-ad.js";
import {
  add,
  bind,
  bindControl,
  bindCustomJvp,
  bindCustomVjp,
  checkCustomRule,
  checkNans,
  config,
  defineEngine,
  definitionOf,
  ForwardModeError,
  isFloat,
  needsBit,
  TENSOR_MATH,
  tensorTangents,
  Trace,
  Tracer,
  withTrace,
  zeros,
  type Aval,
  type ControlCall,
  type CustomJvpRule,
  type CustomVjpRule,
  type EngineCore,
  type FlatFunction,
  type Params,
  type Primitive,
  type Tensor,
  type VjpNode,
} from "@chainrule/ir";

/** A tangent or cotangent; `null` is a symbolic zero (no work is done for it). */
type Zeroable = Tensor | null;

function zerosLike(x: Tensor): Tensor {
  return zeros(x.shape, x.dtype);
}

function instantiate(t: Zeroable, like: Tensor): Tensor {
  return t ?? zerosLike(like);
}

/** Tangents are tensors shaped like their primals; every rule's arithmetic is ir's ops (recorded when tracing). */
const TANGENTS = tensorTangents(TENSOR_MATH);

// ── forward mode ───────────────────────────────────────────────────────────────────────────

class JvpTracer extends Tracer {
  constructor(
    readonly trace: JvpTrace,
    readonly primal: Tensor,
    readonly tangent: Zeroable,
  ) {
    super(primal);
  }
  concrete(): Tensor {
    return this.primal instanceof Tracer ? this.primal.concrete() : this.primal;
  }
}

class JvpTrace extends Trace {
  readonly name = "jit (forward)";

  constant(value: Tensor): Tracer {
    return new JvpTracer(this, value, null);
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>, out: Aval): Tracer {
    const ts = inputs as JvpTracer[];
    const primals = ts.map((t) => t.primal);
    const y = bind(prim, primals, params);
    if (config.debugNans) checkNans(`jit: forward pass of ${prim}`, primals, y);
    const tangents = ts.map((t) => t.tangent);
    if (!isFloat(out.dtype) || tangents.every((t) => t === null)) return new JvpTracer(this, y, null);
    const dy = definitionOf(prim).jvp(tangents, { x: primals, y, params }, TANGENTS);
    if (dy !== null && config.debugNans)
      checkNans(
        `jit: tangent of ${prim}`,
        tangents.filter((t): t is Tensor => t !== null),
        dy,
      );
    return new JvpTracer(this, y, dy);
  }

  override processCustomJvp(rule: CustomJvpRule, inputs: Tracer[]): Tensor {
    const ts = inputs as JvpTracer[];
    const primals = ts.map((t) => t.primal);
    if (ts.every((t) => t.tangent === null)) return new JvpTracer(this, bindCustomJvp(rule, primals), null);
    const [y, dy] = checkCustomRule(
      "jvp",
      rule,
      rule.jvp(
        primals,
        ts.map((t) => instantiate(t.tangent, t.primal)),
      ),
    );
    return new JvpTracer(this, y, dy);
  }

  /** customVjp: forward mode would have to assume `bwd` linear; with a non-zero tangent it is an error (as in JAX). */
  override processCustomVjp(rule: CustomVjpRule, inputs: Tracer[]): Tensor {
    const ts = inputs as JvpTracer[];
    // checkpoint's rule: fun is differentiated as ordinary code
    if (rule.differentiableFun === true && ts.some((t) => t.tangent !== null)) return rule.fun(...inputs);
    if (ts.some((t) => t.tangent !== null)) throw new ForwardModeError(rule);
    return new JvpTracer(
      this,
      bindCustomVjp(
        rule,
        ts.map((t) => t.primal),
      ),
      null,
    );
  }

  /** Structured control flow: the call of the call's JVP (a loop stays a loop; control-ad.ts). */
  override processControl(call: ControlCall, inputs: Tracer[]): Tensor[] {
    const ts = inputs as JvpTracer[];
    const primals = ts.map((t) => t.primal);
    if (ts.every((t) => t.tangent === null)) return bindControl(call, primals).map((y) => new JvpTracer(this, y, null));
    const { outputs, tangents } = jvpControl(
      call,
      primals,
      ts.map((t) => t.tangent),
      jvpCore as JvpCore,
    );
    return outputs.map((y, i) => new JvpTracer(this, y, tangents[i] ?? null));
  }
}

export function jvpCore(f: FlatFunction, primals: Tensor[], tangents: Tensor[]): { outputs: Tensor[]; tangents: Tensor[] } {
  return withTrace(
    (level) => new JvpTrace(level),
    (trace) => {
      const xs = primals.map((p, i) => new JvpTracer(trace, p, tangents[i]!));
      const ys = f(xs);
      const outputs: Tensor[] = [];
      const outTangents: Tensor[] = [];
      for (const y of ys) {
        if (y instanceof JvpTracer && y.trace === trace) {
          outputs.push(y.primal);
          outTangents.push(instantiate(y.tangent, y.primal));
        } else {
          outputs.push(y);
          outTangents.push(zerosLike(y));
        }
      }
      return { outputs, tangents: outTangents };
    },
  );
}

// ── reverse mode ───────────────────────────────────────────────────────────────────────────

class VjpTracer extends Tracer {
  constructor(
    readonly trace: VjpTrace,
    readonly primal: Tensor,
    /** Index of this value's cotangent slot; -1 for values that do not depend on the inputs. */
    readonly slot: number,
  ) {
    super(primal);
  }
  concrete(): Tensor {
    return this.primal instanceof Tracer ? this.primal.concrete() : this.primal;
  }
}

interface TapeEntry {
  /** The cotangent slots of the entry's outputs (one, or one per output of a control-flow call; −1: not differentiated). */
  readonly outs: readonly number[];
  readonly inputs: readonly number[];
  readonly backward: (cts: Zeroable[]) => Zeroable[];
  readonly what: string;
  readonly inputShapes: readonly Tensor[];
}

class VjpTrace extends Trace {
  readonly name = "jit (reverse)";
  readonly tape: TapeEntry[] = [];
  slots = 0;

  override get reverseMode(): boolean {
    return true;
  }

  constant(value: Tensor): Tracer {
    return new VjpTracer(this, value, -1);
  }

  input(value: Tensor): VjpTracer {
    return new VjpTracer(this, value, this.slots++);
  }

  private record(y: Tensor, inputs: VjpTracer[], what: string, backward: (ct: Tensor) => Zeroable[]): VjpTracer {
    if (!isFloat(y.dtype) || inputs.every((t) => t.slot < 0)) return new VjpTracer(this, y, -1);
    const out = this.slots++;
    this.tape.push({
      outs: [out],
      inputs: inputs.map((t) => t.slot),
      backward: (cts) => backward(cts[0]!),
      what,
      inputShapes: inputs.map((t) => t.primal),
    });
    return new VjpTracer(this, y, out);
  }

  /** Structured control flow: one tape entry for all outputs, whose backward is a call (control-ad.ts). */
  override processControl(call: ControlCall, inputs: Tracer[]): Tensor[] {
    const ts = inputs as VjpTracer[];
    const primals = ts.map((t) => t.primal);
    if (ts.every((t) => t.slot < 0)) return bindControl(call, primals).map((y) => new VjpTracer(this, y, -1));
    const { outputs, backward } = vjpControl(call, primals, vjpCore);
    const outs = outputs.map((y) => (isFloat(y.dtype) ? this.slots++ : -1));
    this.tape.push({ outs, inputs: ts.map((t) => t.slot), backward, what: `control flow (${call.kind})`, inputShapes: primals });
    return outputs.map((y, i) => new VjpTracer(this, y, outs[i]!));
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>): Tracer {
    const ts = inputs as VjpTracer[];
    const primals = ts.map((t) => t.primal);
    const y = bind(prim, primals, params);
    if (config.debugNans) checkNans(`jit: forward pass of ${prim}`, primals, y);
    const vjp = definitionOf(prim).vjp.vjp;
    if (vjp === null) return new VjpTracer(this, y, -1);
    let needs = 0;
    ts.forEach((t, i) => {
      if (t.slot >= 0) needs |= needsBit(i);
    });
    const node: VjpNode<P> = {
      params,
      x: primals,
      y,
      shape: (i) => primals[i]!.shape,
      dtype: y.dtype,
      arity: primals.length,
      same: (i, j) => ts[i]!.slot >= 0 && ts[i]!.slot === ts[j]!.slot,
    };
    return this.record(y, ts, prim, (ct) => vjp(ct, node, needs, TENSOR_MATH));
  }

  override processCustomVjp(rule: CustomVjpRule, inputs: Tracer[]): Tensor {
    const ts = inputs as VjpTracer[];
    const primals = ts.map((t) => t.primal);
    if (ts.every((t) => t.slot < 0)) return new VjpTracer(this, bindCustomVjp(rule, primals), -1);
    const [y, residuals] = checkCustomRule("fwd", rule, rule.fwd(...primals));
    return this.record(y, ts, "customVjp", (ct) => checkCustomRule("bwd", rule, rule.bwd(residuals, ct), ts));
  }

  override processCustomJvp(rule: CustomJvpRule, inputs: Tracer[]): Tensor {
    const ts = inputs as VjpTracer[];
    const primals = ts.map((t) => t.primal);
    const y = bindCustomJvp(rule, primals);
    if (ts.every((t) => t.slot < 0)) return new VjpTracer(this, y, -1);
    // t ↦ jvp(primals, t) is linear (J·t); its vjp with cotangent ȳ is Jᵀ·ȳ.
    return this.record(y, ts, "customJvp", (ct) => {
      const { pullback } = vjpCore((t) => [checkCustomRule("jvp", rule, rule.jvp(primals, t), y)[1]], primals.map(zerosLike));
      return pullback([ct]);
    });
  }
}

function accumulate(cts: Zeroable[], slot: number, value: Tensor): void {
  const previous = cts[slot];
  cts[slot] = previous == null ? value : add(previous, value);
}

export function vjpCore(f: FlatFunction, primals: Tensor[]): { outputs: Tensor[]; pullback: (cotangents: Tensor[]) => Tensor[] } {
  return withTrace(
    (level) => new VjpTrace(level),
    (trace) => {
      const xs = primals.map((p) => trace.input(p));
      const ys = f(xs);
      const outSlots = ys.map((y) => (y instanceof VjpTracer && y.trace === trace ? y.slot : -1));
      const outputs = ys.map((y) => (y instanceof VjpTracer && y.trace === trace ? y.primal : y));
      const tape = trace.tape;
      const slots = trace.slots;
      const pullback = (cotangents: Tensor[]): Tensor[] => {
        const cts: Zeroable[] = new Array<Zeroable>(slots).fill(null);
        outSlots.forEach((slot, i) => {
          if (slot >= 0) accumulate(cts, slot, cotangents[i]!);
        });
        for (let e = tape.length - 1; e >= 0; e--) {
          const entry = tape[e]!;
          const given = entry.outs.map((slot) => (slot < 0 ? null : cts[slot]!));
          if (given.every((ct) => ct == null)) continue;
          for (const slot of entry.outs) if (slot >= 0) cts[slot] = null;
          const grads = entry.backward(given);
          entry.inputs.forEach((slot, i) => {
            const g = grads[i];
            if (slot < 0 || g == null) return;
            if (config.debugNans)
              checkNans(
                `jit: backward pass of ${entry.what}`,
                given.filter((c): c is Tensor => c != null),
                g,
              );
            accumulate(cts, slot, g.dtype === entry.inputShapes[i]!.dtype ? g : bind("cast", [g], { dtype: entry.inputShapes[i]!.dtype }));
          });
        }
        return primals.map((p, i) => cts[i] ?? zeros(p.shape, p.dtype));
      };
      return { outputs, pullback };
    },
  );
}

export const interpretiveCore: EngineCore = { name: "jit", jvp: jvpCore, vjp: vjpCore };

/** The interpretive engine: evaluates eagerly, or runs on tracers of an enclosing transformation. */
export const interpreter = defineEngine(interpretiveCore);
