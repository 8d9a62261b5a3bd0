/**
 * Checks of every primitive definition that need no engine: the table is complete and named
 * right, `saves` declares everything a VJP rule reads, batching rules agree with evaluating each
 * batch element alone, the partials agree on JS numbers and on tensors, and the pow and atan2
 * derivative conventions. SAMPLES has one entry per primitive (a missing one is a type error).
 */
import { describe, expect, it } from "vitest";
import * as ir from "../index.js";
import {
  ARITY,
  bind,
  DEFINITIONS,
  NUMBER_MATH,
  PRIMITIVES,
  TENSOR_MATH,
  Tensor,
  type BatchRule,
  type Params,
  type Primitive,
  type VjpNode,
  type VjpRule,
} from "../index.js";

interface Sample<P extends Primitive> {
  readonly args: readonly Tensor[];
  readonly params: Params<P>;
}

const f64 = (shape: number[], values: number[]) => new Tensor("float64", shape, Float64Array.from(values));
const i32 = (values: number[]) => new Tensor("int32", [values.length], Int32Array.from(values));
const bool = (values: number[]) => new Tensor("bool", [values.length], Uint8Array.from(values));
const pos = () => f64([2, 3], [0.5, 1.25, 2, 0.75, 1.5, 3]);
const other = () => f64([3], [1.5, 0.25, 2.5]);
const inUnit = (): Sample<never> => ({ args: [f64([2, 3], [0.1, -0.4, 0.25, 0.6, -0.75, 0.3])], params: {} as never });
const u = (): Sample<never> => ({ args: [pos()], params: {} as never });
const b = (): Sample<never> => ({ args: [pos(), other()], params: {} as never });

const POOL = { window: [2, 2], strides: [1, 2], padding: [0, 1, 0, 1] };

/** Inputs inside every primitive's domain (distinct values: no ties), for each primitive. */
const SAMPLES: { [P in Primitive]: () => Sample<P> } = {
  neg: u,
  exp: u,
  log: u,
  log1p: u,
  expm1: u,
  sin: u,
  cos: u,
  tanh: u,
  sqrt: u,
  abs: u,
  sign: u,
  add: b,
  sub: b,
  mul: b,
  div: b,
  pow: b,
  maximum: b,
  minimum: b,
  atan2: b,
  mulNoNan: b,
  greater: b,
  greaterEqual: b,
  less: b,
  lessEqual: b,
  equal: b,
  notEqual: b,
  where: () => ({ args: [bool([1, 0, 1]), pos(), other()], params: {} }),
  cast: () => ({ args: [pos()], params: { dtype: "float32" } }),
  stopGradient: u,
  reduceSum: () => ({ args: [pos()], params: { axes: [1] } }),
  reduceMax: () => ({ args: [pos()], params: { axes: [0] } }),
  argmax: () => ({ args: [pos()], params: { axis: 1 } }),
  reshape: () => ({ args: [pos()], params: { shape: [3, 2] } }),
  transpose: () => ({ args: [pos()], params: { perm: [1, 0] } }),
  broadcastTo: () => ({ args: [other()], params: { shape: [2, 3] } }),
  slice: () => ({ args: [pos()], params: { begin: [0, 1], end: [2, 3] } }),
  pad: () => ({ args: [pos()], params: { low: [1, 0], high: [0, 2] } }),
  concat: () => ({ args: [pos(), f64([2, 1], [4, 5])], params: { axis: 1 } }),
  gather: () => ({ args: [pos(), i32([2, 0, 2])], params: { axis: 1 } }),
  scatterAdd: () => ({ args: [pos(), i32([1, 0, 1])], params: { axis: 1, size: 4 } }),
  matmul: () => ({ args: [pos(), f64([3, 2], [1, -1, 0.5, 2, -0.25, 1])], params: {} }),
  checkIndices: () => ({ args: [i32([2, 0, 1])], params: { op: "take", size: 3 } }),
  // family: reductions, scans and sorting (issue 17)
  linearScan: () => ({ args: [f64([2, 1], [0.5, -1.5]), pos()], params: { axis: 1, reverse: 0 } }),
  argcummax: () => ({ args: [pos()], params: { axis: 1 } }),
  argsort: () => ({ args: [pos()], params: { axis: 0, descending: 1 } }),
  // family: indexing (issue 17, ops-index) — repeated indices, no ties
  scatterMul: () => ({ args: [pos(), f64([2, 3], [1.5, -2, 0.5, 3, 0.25, -1]), i32([1, 0, 1])], params: { axis: 1 } }),
  scatterMin: () => ({ args: [pos(), f64([2, 3], [1.75, 0.1, 0.2, 0.3, 4, 3.5]), i32([1, 0, -1])], params: { axis: 1 } }),
  scatterMax: () => ({ args: [pos(), f64([2, 3], [1.75, 0.1, 2.2, 0.3, 4, 3.5]), i32([1, 0, 1])], params: { axis: 1 } }),
  // the math family
  asin: inUnit,
  acos: inUnit,
  atan: u,
  sinh: u,
  cosh: u,
  asinh: u,
  acosh: () => ({ args: [f64([2, 3], [1.5, 1.25, 2, 1.75, 1.1, 3])], params: {} }),
  atanh: inUnit,
  erf: u,
  erfc: u,
  erfinv: inUnit,
  lgamma: u,
  polygamma: () => ({ args: [pos()], params: { n: 1 } }),
  log2: u,
  log10: u,
  exp2: u,
  cbrt: u,
  floor: u,
  ceil: u,
  round: u,
  trunc: u,
  fmod: b,
  remainder: b,
  hypot: b,
  floorDivide: b,
  // family: convolution and pooling (issue 18)
  conv: () => ({
    args: [f64([1, 2, 4], [0.5, -1, 2, 0.25, 1.5, 3, -0.5, 1]), f64([2, 1, 2], [1, -2, 0.5, 4])],
    params: { strides: [2], padding: [1, 0], lhsDilation: [1], rhsDilation: [2], groups: 2 },
  }),
  // windows of 2 × 2, strides (1, 2), padding on the right: overlapping and padded windows
  reduceWindowSum: () => ({ args: [pos()], params: POOL }),
  reduceWindowSumTranspose: () => ({ args: [f64([2, 2], [1, -2, 0.5, 3])], params: { ...POOL, shape: [2, 3] } }),
  reduceWindowMax: () => ({ args: [pos()], params: POOL }),
  selectAndGatherAdd: () => ({ args: [f64([2, 3], [1, -2, 0.5, 3, 0.25, -1]), pos()], params: POOL }),
  selectAndScatterAdd: () => ({ args: [f64([2, 2], [1, -2, 0.5, 3]), pos()], params: POOL }),
};

function sample(prim: Primitive): Sample<Primitive> {
  return SAMPLES[prim]() as Sample<Primitive>;
}

function values(t: Tensor | null): number[] | null {
  return t === null ? null : Array.from(t.data);
}

/** The node a tape keeps for `prim` under `saves`, with one differentiated value per input. */
function node(prim: Primitive, s: Sample<Primitive>, y: Tensor, all: boolean): VjpNode<Primitive> {
  const saves = DEFINITIONS[prim].vjp.saves;
  const inputs = all || saves === "inputs" || saves === "inputs and output";
  const output = all || saves === "output" || saves === "inputs and output";
  return {
    params: s.params,
    x: inputs ? s.args : [],
    y: output ? y : null,
    shape: (i) => s.args[i]!.shape,
    dtype: y.dtype,
    arity: s.args.length,
    same: () => false,
  };
}

describe("primitive definitions", () => {
  it("one per primitive, each under its own name, with its arity and params", () => {
    for (const prim of PRIMITIVES) {
      const def = DEFINITIONS[prim];
      expect(def.name).toBe(prim);
      expect(ARITY[prim]).toBe(def.arity);
      const s = sample(prim);
      if (def.arity !== "variadic") expect(s.args.length, prim).toBe(def.arity);
      expect(Object.keys(s.params).sort(), prim).toEqual(Object.keys(def.params).sort());
    }
  });

  it.each(PRIMITIVES)("%s: its VJP reads only what `saves` declares", (prim) => {
    const rule = DEFINITIONS[prim].vjp as VjpRule<Primitive>;
    if (rule.vjp === null) return;
    const s = sample(prim);
    const y = bind(prim, s.args, s.params);
    const ct = ir.add(ir.mul(y, 0), 1.5);
    const needs = (1 << s.args.length) - 1;
    const full = rule.vjp(ct, node(prim, s, y, true), needs, TENSOR_MATH).map(values);
    const kept = rule.vjp(ct, node(prim, s, y, false), needs, TENSOR_MATH).map(values);
    expect(kept).toEqual(full);
  });

  it.each(PRIMITIVES)("%s: batching along a leading axis = each batch element alone", (prim) => {
    const batch = DEFINITIONS[prim].batch as BatchRule<Primitive> | undefined;
    if (batch === undefined) return;
    const s = sample(prim);
    const y = bind(prim, s.args, s.params);
    // the first float operand varies over the batch (k = 2), the others are shared; for elementwise ones all vary
    const everything = DEFINITIONS[prim].elementwise !== undefined;
    const first = s.args.findIndex((a) => ir.isFloat(a.dtype));
    const varies = (i: number) => i === first || (everything && i > first);
    const variant = (a: Tensor, j: number) => (j === 0 ? a : ir.add(ir.mul(a, -0.5), 0.125));
    const args = s.args.map((a, i) => (varies(i) ? ir.stack([variant(a, 0), variant(a, 1)]) : a));
    const got = batch(
      args,
      s.args.map((_, i) => varies(i)),
      s.params,
      2,
      y,
    );
    const alone = [0, 1].map((j) =>
      bind(
        prim,
        s.args.map((a, i) => (varies(i) ? variant(a, j) : a)),
        s.params,
      ),
    );
    expect(got.shape).toEqual([2, ...y.shape]);
    expect(Array.from(got.data)).toEqual([...alone[0]!.data, ...alone[1]!.data]);
  });

  it("elementwise partials agree on JS numbers and on tensors", () => {
    for (const prim of PRIMITIVES) {
      const info = DEFINITIONS[prim].elementwise;
      if (info === undefined) continue;
      for (const point of [
        [0.5, 1.5],
        [2, 2],
        [1.25, -0.75],
      ]) {
        const xs = point.slice(0, info.arity);
        const y = bind(
          prim,
          xs.map((v) => ir.scalar(v)),
          {} as never,
        ).item();
        info.partials.forEach((partial, i) => {
          const onNumbers = partial(NUMBER_MATH, xs, y);
          const onTensors = partial(
            TENSOR_MATH,
            xs.map((v) => ir.scalar(v)),
            ir.scalar(y),
          );
          expect(typeof onTensors === "number" ? onTensors : onTensors.item(), `${prim} ∂${i} at ${xs}`).toBe(onNumbers);
        });
      }
    }
  });
});

describe("derivative conventions of the definitions", () => {
  const dPowA = DEFINITIONS.pow.elementwise!.partials[0];
  const dPowB = DEFINITIONS.pow.elementwise!.partials[1]!;
  const powA = (a: number, b: number) => dPowA(NUMBER_MATH, [a, b], a ** b) as number;
  const powB = (a: number, b: number) => dPowB(NUMBER_MATH, [a, b], a ** b) as number;

  it("pow: ∂/∂a = b·aᵇ⁻¹ is smooth in b at b = 0, so ∂²(aᵇ)/∂a∂b = 1/a there (not 0)", () => {
    for (const a of [0.5, 2, 3]) {
      const h = 1e-6;
      expect((powA(a, h) - powA(a, -h)) / (2 * h)).toBeCloseTo(1 / a, 6);
      expect(powA(a, 0)).toBe(0);
    }
    // the only guarded point: aᵇ⁻¹ at a = b = 0 (0 · ∞)
    expect(powA(0, 0)).toBe(0);
    expect(powA(0, 2)).toBe(0);
    expect(powA(0, 1)).toBe(1);
    expect(powA(0, 0.5)).toBe(Infinity);
    expect(powB(0, 2)).toBe(0);
    expect(powB(2, 3)).toBeCloseTo(8 * Math.log(2), 12);
  });

  it("atan2: ∂ = (b, −a) / (a² + b²), NaN at the origin", () => {
    const da = DEFINITIONS.atan2.elementwise!.partials[0];
    const db = DEFINITIONS.atan2.elementwise!.partials[1]!;
    expect(da(NUMBER_MATH, [1, 2], Math.atan2(1, 2))).toBeCloseTo(2 / 5, 15);
    expect(db(NUMBER_MATH, [1, 2], Math.atan2(1, 2))).toBeCloseTo(-1 / 5, 15);
    expect(da(NUMBER_MATH, [0, 0], 0)).toBeNaN();
  });

  it("atan2 and mulNoNan kernels", () => {
    const a = f64([5], [1, -1, 0, -0, 3]);
    const c = f64([5], [2, -2, -1, -1, 0]);
    expect(Array.from(ir.atan2(a, c).data)).toEqual([1, -1, 0, -0, 3].map((v, i) => Math.atan2(v, [2, -2, -1, -1, 0][i]!)));
    const x = f64([6], [0, Infinity, NaN, 0, 2, -0]);
    const z = f64([6], [Infinity, 0, 0, NaN, -3, 5]);
    expect(Array.from(ir.mulNoNan(x, z).data)).toEqual([0, 0, 0, 0, -6, -0]);
    expect(Object.is(ir.mulNoNan(x, z).data[5], -0)).toBe(true);
    expect(() => ir.atan2(i32([1]), i32([1]))).not.toThrow();
    expect(ir.atan2(i32([1]), i32([1])).dtype).toBe("float64");
  });
});
