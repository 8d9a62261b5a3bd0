/**
 * Random well-shaped programs for property tests: a program is a list of steps over a growing
 * list of values; every step is valid for any shapes it meets (it adapts: broadcasting via a
 * reduction when shapes do not fit, etc.), so any generated program runs, traces and serializes.
 */
import fc from "fast-check";
import type { DType } from "../dtype.js";
import {
  abs,
  add,
  astype,
  broadcastTo,
  concat,
  div,
  exp,
  greater,
  matmul,
  max,
  maximum,
  mul,
  neg,
  pad,
  reshape,
  sin,
  slice,
  sqrt,
  stopGradient,
  sub,
  sum,
  tanh,
  transpose,
  where,
  logsumexp,
  softmax,
  take,
} from "../index.js";
import { Random } from "../random.js";
import { broadcastShapes } from "../shape.js";
import { type Tensor, tensor } from "../tensor.js";

export interface InputSpec {
  shape: number[];
  dtype: DType;
}

export interface Step {
  kind: number;
  a: number;
  b: number;
  flag: number;
  values: number[];
}

export interface Program {
  inputs: InputSpec[];
  steps: Step[];
  outputs: number;
}

const SPECIAL = [0, -0, 1, -1, 0.5, 2.5, NaN, Infinity, -Infinity, 1e-300, 1e300];

export const inputSpec: fc.Arbitrary<InputSpec> = fc.record({
  shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
  dtype: fc.constantFrom<DType>("float64", "float64", "float32"),
});

export const step: fc.Arbitrary<Step> = fc.record({
  kind: fc.nat(19),
  a: fc.nat(),
  b: fc.nat(),
  flag: fc.nat(7),
  values: fc.array(fc.oneof(fc.double(), fc.constantFrom(...SPECIAL)), { minLength: 1, maxLength: 4 }),
});

export const program: fc.Arbitrary<Program> = fc.record({
  inputs: fc.array(inputSpec, { minLength: 1, maxLength: 3 }),
  steps: fc.array(step, { minLength: 2, maxLength: 14 }),
  outputs: fc.integer({ min: 1, max: 3 }),
});

function constantLike(x: Tensor, values: number[]): Tensor {
  const size = x.size;
  const data = Array.from({ length: size }, (_, i) => values[i % values.length]!);
  return tensor(data, { shape: x.shape, dtype: x.dtype });
}

/** Applies one step; returns the new value. */
function apply(s: Step, vs: Tensor[]): Tensor {
  const x = vs[s.a % vs.length]!;
  const y = vs[s.b % vs.length]!;
  const axis = x.rank > 0 ? s.flag % x.rank : 0;
  switch (s.kind) {
    case 0:
      return exp(tanh(x));
    case 1:
      return sin(neg(x));
    case 2:
      return sqrt(abs(x));
    case 3:
    case 4:
    case 5:
    case 6: {
      const other = broadcastable(x, y) ? y : sum(y);
      return [add, sub, mul, maximum][s.kind - 3]!(x, other);
    }
    case 7:
      return div(x, add(abs(broadcastable(x, y) ? y : sum(y)), 1));
    case 8:
      return x.rank > 0 ? sum(x, axis, s.flag % 2 === 0) : sum(x);
    case 9:
      return x.rank > 0 && x.shape[axis]! > 0 ? max(x, axis - x.rank, s.flag % 2 === 1) : neg(x);
    case 10:
      return transpose(x);
    case 11:
      return s.flag % 2 ? reshape(x, [-1]) : reshape(x, [...x.shape, 1]);
    case 12:
      return x.rank > 0
        ? slice(
            x,
            x.shape.map((d, i) => (i === axis ? Math.floor(d / 2) : 0)),
          )
        : x;
    case 13:
      return pad(
        x,
        x.shape.map((_, i) => (i === axis ? 1 : 0)),
        x.shape.map(() => s.flag % 2),
      );
    case 14:
      return add(x, constantLike(x, s.values));
    case 15:
      return where(greater(x, 0), x, constantLike(x, s.values));
    case 16:
      return x.rank > 0 ? concat([x, x], axis) : stopGradient(x);
    case 17:
      return x.rank === 2 ? matmul(x, transpose(x)) : astype(x, x.dtype === "float32" ? "float64" : "float32");
    case 18:
      return x.rank > 0 && x.shape[x.rank - 1]! > 0 ? (s.flag % 2 ? softmax(x) : logsumexp(x, -1)) : broadcastTo(x, [2, ...x.shape]);
    default:
      return x.rank > 0 && x.shape[0]! > 0 ? take(x, [0, x.shape[0]! - 1], 0) : mul(x, 2);
  }
}

function broadcastable(x: Tensor, y: Tensor): boolean {
  try {
    broadcastShapes("", x.shape, y.shape);
    return true;
  } catch {
    return false;
  }
}

/** The program as a plain function of its inputs, returning `{ out: [...] }`. */
export function toProgramFunction(p: Program): (...inputs: Tensor[]) => { out: Tensor[] } {
  return (...inputs) => {
    const vs = inputs.slice();
    for (const s of p.steps) vs.push(apply(s, vs));
    return { out: vs.slice(-p.outputs) };
  };
}

/** Concrete inputs for a program, from a seed. */
export function sampleInputs(p: Program, seed: number): Tensor[] {
  const random = new Random(seed);
  return p.inputs.map((spec) => random.normal(spec.shape, { dtype: spec.dtype }));
}

/** Bitwise equality of tensor lists (NaN equals NaN, -0 differs from 0). */
export function sameTensors(a: readonly Tensor[], b: readonly Tensor[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    if (x.dtype !== y.dtype || x.shape.length !== y.shape.length || x.shape.some((d, k) => d !== y.shape[k])) return false;
    const dx = x.data;
    const dy = y.data;
    for (let k = 0; k < dx.length; k++) if (!Object.is(dx[k], dy[k])) return false;
    return true;
  });
}
