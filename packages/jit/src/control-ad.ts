/**
 * Derivatives of structured control flow under the JIT (issue 19), as calls of derived
 * sub-graphs, so derivatives stay loops and branches (never unrolled):
 *
 * - JVP: the JVP of a loop is a loop whose carry holds (primal, tangent) and whose body is the
 *   body's JVP; the JVP of a cond is a cond of the branches' JVPs.
 * - VJP of cond: the forward runs the cond; the backward is a cond of the branches' VJPs (each
 *   recomputes its branch's forward from the saved inputs, then pulls back).
 * - VJP of scan/forLoop (static trip count): the forward scan also stacks the carry entering each
 *   step; the backward is a scan in the opposite direction over those carries, whose body
 *   recomputes one step and pulls back (the cotangent of the carry is its carry, the cotangents
 *   of the captured values are summed in its carry, those of xs are stacked).
 * - whileLoop: forward only; reverse mode raises JAX's error (ir's `whileLoopReverseError`).
 *
 * Sub-graph inputs and outputs are grouped; a derived graph interleaves each group's primals
 * with its tangents (or cotangents), which is what the call layouts of ir's ControlCall need.
 */
import {
  add,
  bindControl,
  evalGraphTrusted,
  isFloat,
  traceSubgraph,
  whileLoopReverseError,
  zeros,
  type Aval,
  type ControlCall,
  type Graph,
  type Tensor,
} from "@chainrule/ir";

type Zeroable = Tensor | null;
type Flat = (xs: Tensor[]) => Tensor[];
export type JvpCore = (f: Flat, primals: Tensor[], tangents: Zeroable[]) => { outputs: Tensor[]; tangents: Tensor[] };
export type VjpCore = (f: Flat, primals: Tensor[]) => { outputs: Tensor[]; pullback: (cts: Tensor[]) => Tensor[] };

const floatAval = (a: Aval) => isFloat(a.dtype);
const zerosOf = (a: Aval) => zeros(a.shape, a.dtype);
const run =
  (g: Graph): Flat =>
  (xs) =>
    evalGraphTrusted(g, xs);

/** Splits `list` into consecutive groups of the given sizes. */
function groups<T>(list: readonly T[], sizes: readonly number[]): T[][] {
  const out: T[][] = [];
  let k = 0;
  for (const n of sizes) {
    out.push(list.slice(k, k + n));
    k += n;
  }
  return out;
}

function traced(avals: readonly Aval[], f: (ins: Tensor[]) => Tensor[]): Graph {
  return traceSubgraph("jit (control flow)", avals, f).graph;
}

/**
 * The JVP of `g` (inputs in groups `inSizes`, outputs in groups `outSizes`) as a graph whose
 * inputs are, per group, the primals then the tangents of its float inputs, and whose outputs
 * are, per group, the outputs then the tangents of its float outputs.
 */
function jvpGraph(g: Graph, inSizes: readonly number[], outSizes: readonly number[], jvp: JvpCore): Graph {
  const inGroups = groups(g.inputs as readonly Aval[], inSizes);
  const avals = inGroups.flatMap((grp) => [...grp, ...grp.filter(floatAval)]);
  return traced(avals, (ins) => {
    const primals: Tensor[] = [];
    const tangents: Zeroable[] = [];
    let k = 0;
    for (const grp of inGroups) {
      const ps = ins.slice(k, k + grp.length);
      k += grp.length;
      primals.push(...ps);
      for (const p of ps) tangents.push(isFloat(p.dtype) ? ins[k++]! : null);
    }
    const { outputs, tangents: outT } = jvp(run(g), primals, tangents);
    const outGroups = groups(outputs, outSizes);
    const tGroups = groups(outT, outSizes);
    return outGroups.flatMap((grp, j) => [...grp, ...tGroups[j]!.filter((_, i) => isFloat(grp[i]!.dtype))]);
  });
}

/** Per input group: its primals, then its tangents (zeros for null) for float inputs. */
function interleave(primals: readonly Tensor[], tangents: readonly Zeroable[], sizes: readonly number[]): Tensor[] {
  const ps = groups(primals, sizes);
  const ts = groups(tangents, sizes);
  return ps.flatMap((grp, j) => [...grp, ...grp.flatMap((p, i) => (isFloat(p.dtype) ? [ts[j]![i] ?? zerosOf(p)] : []))]);
}

/** Splits outputs interleaved per group (outputs, then float tangents) into outputs and tangents (null for non-float). */
function deinterleave(
  outs: readonly Tensor[],
  avals: readonly Aval[],
  sizes: readonly number[],
): { outputs: Tensor[]; tangents: Zeroable[] } {
  const outputs: Tensor[] = [];
  const tangents: Zeroable[] = [];
  let k = 0;
  for (const grp of groups(avals, sizes)) {
    const os = outs.slice(k, k + grp.length);
    k += grp.length;
    outputs.push(...os);
    for (const a of grp) tangents.push(floatAval(a) ? outs[k++]! : null);
  }
  return { outputs, tangents };
}

const interleavedAvals = (avals: readonly Aval[], sizes: readonly number[]) =>
  groups(avals, sizes).flatMap((grp) => [...grp, ...grp.filter(floatAval)]);

/** The JVP of a control-flow call: the call of its JVP, on primals and tangents. */
export function jvpControl(
  call: ControlCall,
  primals: Tensor[],
  tangents: Zeroable[],
  jvp: JvpCore,
): { outputs: Tensor[]; tangents: Zeroable[] } {
  switch (call.kind) {
    case "cond": {
      const n = primals.length - 1;
      const outSizes = [call.outs.length];
      const derived: ControlCall = {
        kind: "cond",
        branches: call.branches.map((b) => jvpGraph(b as Graph, [n], outSizes, jvp)),
        operands: n,
        outs: interleavedAvals(call.outs, outSizes),
      };
      const outs = bindControl(derived, [primals[0]!, ...interleave(primals.slice(1), tangents.slice(1), [n])]);
      return deinterleave(outs, call.outs, outSizes);
    }
    case "scan": {
      const nc = call.carry;
      const nk = primals.length - nc - call.xs;
      const first = call.indexed === null ? [] : [1];
      const body = call.body as Graph;
      const bodyOuts = body.outputs.length;
      const derivedBody = jvpGraph(body, [...first, nc, call.xs, nk], [nc, bodyOuts - nc], jvp);
      const carryAvals = interleavedAvals(call.outs.slice(0, nc), [nc]);
      const xAvals = (body.inputs as readonly Aval[]).slice(first.length + nc, first.length + nc + call.xs);
      const derived: ControlCall = {
        ...call,
        body: derivedBody,
        carry: carryAvals.length,
        xs: call.xs + xAvals.filter(floatAval).length,
        outs: interleavedAvals(call.outs, [nc, call.outs.length - nc]),
      };
      const outs = bindControl(derived, interleave(primals, tangents, [nc, call.xs, nk]));
      return deinterleave(outs, call.outs, [nc, call.outs.length - nc]);
    }
    case "while": {
      const nc = call.carry;
      const nk = primals.length - nc;
      const condGraph = call.cond as Graph;
      const inAvals = interleavedAvals(condGraph.inputs as readonly Aval[], [nc, nk]);
      const carryIn = groups(condGraph.inputs as readonly Aval[], [nc, nk]);
      // the condition reads the primals only
      const cond = traced(inAvals, (ins) => {
        const [carry, rest] = [ins.slice(0, nc), ins.slice(nc + carryIn[0]!.filter(floatAval).length)];
        return run(condGraph)([...carry, ...rest.slice(0, nk)]);
      });
      const derived: ControlCall = {
        kind: "while",
        cond,
        body: jvpGraph(call.body as Graph, [nc, nk], [nc], jvp),
        carry: nc + call.outs.filter(floatAval).length,
        outs: interleavedAvals(call.outs, [nc]),
      };
      const outs = bindControl(derived, interleave(primals, tangents, [nc, nk]));
      return deinterleave(outs, call.outs, [nc]);
    }
  }
}

/**
 * The cotangents of `f`'s float inputs at `primals`, given cotangents of its outputs (zeros for
 * non-float outputs): the body of a derived VJP graph.
 */
function pull(f: Flat, primals: Tensor[], cts: readonly Tensor[], vjp: VjpCore): Tensor[] {
  const { outputs, pullback } = vjp(f, primals);
  let k = 0;
  const full = outputs.map((o) => (isFloat(o.dtype) ? cts[k++]! : zerosOf(o)));
  return pullback(full).filter((_, i) => isFloat(primals[i]!.dtype));
}

export interface ControlVjp {
  readonly outputs: Tensor[];
  /** Cotangents of the inputs (null: not float, or the index) from cotangents of the outputs. */
  readonly backward: (cts: Zeroable[]) => Zeroable[];
}

/** Cotangents per input from the cotangents of the float inputs, in order. */
function scatterFloat(primals: readonly Tensor[], floatCts: readonly Tensor[], skip = 0): Zeroable[] {
  let k = 0;
  return primals.map((p, i) => (i >= skip && isFloat(p.dtype) ? floatCts[k++]! : null));
}

/** Reverse mode of a control-flow call: the forward call and a backward call. */
export function vjpControl(call: ControlCall, primals: Tensor[], vjp: VjpCore): ControlVjp {
  switch (call.kind) {
    case "cond":
      return vjpCond(call, primals, vjp);
    case "scan":
      return vjpScan(call, primals, vjp);
    case "while":
      throw whileLoopReverseError();
  }
}

function vjpCond(call: Extract<ControlCall, { kind: "cond" }>, primals: Tensor[], vjp: VjpCore): ControlVjp {
  const outputs = bindControl(call, primals);
  const ins = primals.slice(1);
  const floatOuts = call.outs.filter(floatAval);
  const backward = (cts: Zeroable[]): Zeroable[] => {
    const given = call.outs.flatMap((a, i) => (floatAval(a) ? [cts[i] ?? zerosOf(a)] : []));
    const avals = [...ins, ...floatOuts];
    const derived: ControlCall = {
      kind: "cond",
      branches: call.branches.map((b) => traced(avals, (xs) => pull(run(b as Graph), xs.slice(0, ins.length), xs.slice(ins.length), vjp))),
      operands: avals.length,
      outs: ins.filter((p) => isFloat(p.dtype)),
    };
    return scatterFloat(primals, bindControl(derived, [primals[0]!, ...ins, ...given]), 1);
  };
  return { outputs, backward };
}

function vjpScan(call: Extract<ControlCall, { kind: "scan" }>, primals: Tensor[], vjp: VjpCore): ControlVjp {
  const nc = call.carry;
  const nx = call.xs;
  const nk = primals.length - nc - nx;
  const body = call.body as Graph;
  const first = call.indexed === null ? 0 : 1;
  const bodyAvals = body.inputs as readonly Aval[];
  const carryAvals = call.outs.slice(0, nc);
  // forward: also stack the carry entering each step
  const forward: ControlCall = {
    ...call,
    body: traced(bodyAvals, (ins) => [...run(body)(ins), ...ins.slice(first, first + nc)]),
    outs: [...call.outs, ...carryAvals.map((a) => ({ shape: [call.length, ...a.shape], dtype: a.dtype }))],
  };
  const all = bindControl(forward, primals);
  const outputs = all.slice(0, call.outs.length);
  const stored = all.slice(call.outs.length);
  const [carry0, xs, consts] = groups(primals, [nc, nx, nk]) as [Tensor[], Tensor[], Tensor[]];
  const backward = (cts: Zeroable[]): Zeroable[] => {
    const ctCarry = carryAvals.flatMap((a, i) => (floatAval(a) ? [cts[i] ?? zerosOf(a)] : []));
    const yOuts = call.outs.slice(nc);
    const ctYs = yOuts.flatMap((a, j) => (floatAval(a) ? [cts[nc + j] ?? zerosOf(a)] : []));
    const floatConsts = consts.filter((k) => isFloat(k.dtype));
    const stepYAvals = yOuts.filter(floatAval).map((a) => ({ shape: a.shape.slice(1), dtype: a.dtype }));
    const stepAvals = [
      ...bodyAvals.slice(0, first),
      ...ctCarry.map((t) => t as Aval),
      ...floatConsts.map((k) => k as Aval),
      ...carryAvals,
      ...bodyAvals.slice(first + nc, first + nc + nx),
      ...stepYAvals,
      ...bodyAvals.slice(first + nc + nx),
    ];
    const nfc = ctCarry.length;
    const nfk = floatConsts.length;
    const stepBody = traced(stepAvals, (ins) => {
      const index = ins.slice(0, first);
      const [ctc, ctk, c, x, cty, k] = groups(ins.slice(first), [nfc, nfk, nc, nx, stepYAvals.length, nk]) as Tensor[][];
      const stepInputs = [...c!, ...x!, ...k!];
      const grads = pull((xsIn) => run(body)([...index, ...xsIn]), stepInputs, [...ctc!, ...cty!], vjp);
      const [dc, dx, dk] = groups(grads, [
        c!.filter((t) => isFloat(t.dtype)).length,
        x!.filter((t) => isFloat(t.dtype)).length,
        nfk,
      ]) as Tensor[][];
      return [...dc!, ...ctk!.map((t, i) => add(t, dk![i]!)), ...dx!];
    });
    const floatXs = xs.filter((x) => isFloat(x.dtype));
    const derived: ControlCall = {
      kind: "scan",
      body: stepBody,
      length: call.length,
      reverse: !call.reverse,
      indexed: call.indexed,
      carry: nfc + nfk,
      xs: nc + nx + ctYs.length,
      outs: [...ctCarry.map((t) => t as Aval), ...floatConsts.map((k) => k as Aval), ...floatXs.map((x) => x as Aval)],
    };
    const res = bindControl(derived, [
      ...ctCarry,
      ...floatConsts.map((k) => zeros(k.shape, k.dtype)),
      ...stored,
      ...xs,
      ...ctYs,
      ...consts,
    ]);
    const [dCarry, dConsts, dXs] = groups(res, [nfc, nfk, floatXs.length]) as Tensor[][];
    return [...scatterFloat(carry0, dCarry!), ...scatterFloat(xs, dXs!), ...scatterFloat(consts, dConsts!)];
  };
  return { outputs, backward };
}
