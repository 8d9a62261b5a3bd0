import { describe, expect, it } from "vitest";
import { ArenaPlan } from "./arena.js";
import { instantiate, kernelModule } from "./kernels.js";
import { reduceFunction, reduceKey, type ReduceSpec } from "./reduce.js";

function check(spec: ReduceSpec, nan = false): number {
  const { outer, mid, inner, dtype } = spec;
  const size = dtype === "float32" ? 4 : 8;
  const plan = new ArenaPlan();
  const x = plan.reserve(outer * mid * inner * size),
    out = plan.reserve(outer * inner * size),
    guard = plan.reserve(16);
  const arena = plan.create(false);
  const view = (at: number, n: number) => (dtype === "float32" ? arena.f32(at, n) : arena.f64(at, n));
  const X = view(x, outer * mid * inner);
  for (let i = 0; i < X.length; i++) X[i] = Math.sin(i * 0.7) * 3;
  if (nan && X.length > 2) X[2] = NaN;
  view(guard, 16 / size).fill(777);
  instantiate(
    kernelModule(reduceKey(spec), false, () => [reduceFunction(spec)]),
    arena.memory,
  )["reduce"]!(x, out);
  const Y = view(out, outer * inner);
  let worst = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc = spec.op === "sum" ? 0 : -Infinity;
      for (let m = 0; m < mid; m++) {
        const v = X[(o * mid + m) * inner + i]!;
        acc = spec.op === "sum" ? acc + v : v > acc || v !== v || acc !== acc ? (acc !== acc ? acc : v) : acc;
      }
      const got = Y[o * inner + i]!;
      const err =
        Object.is(got, acc) || got === acc
          ? 0
          : Number.isNaN(acc) || Number.isNaN(got)
            ? Infinity
            : Math.abs(got - acc) / (1 + Math.abs(acc));
      worst = Math.max(worst, err);
    }
  }
  return view(guard, 16 / size)[0] === 777 ? worst : Infinity;
}

describe("wasm reduction kernels", () => {
  for (const dtype of ["float32", "float64"] as const) {
    for (const op of ["sum", "max"] as const) {
      it(`${dtype} ${op} over rows, columns and middle axes (tails, empty axes, NaN)`, () => {
        const tol = dtype === "float32" ? 1e-5 : 1e-13;
        for (const [outer, mid, inner] of [
          [1, 1, 1],
          [1, 7, 1],
          [3, 13, 1],
          [64, 10, 1],
          [1, 64, 128],
          [1, 5, 7],
          [2, 3, 9],
          [4, 0, 3],
          [3, 0, 1],
          [0, 4, 4],
          [2, 9, 2],
          [1, 1000, 1],
        ] as const) {
          expect({ outer, mid, inner, ok: check({ dtype, op, outer, mid, inner }) <= tol }).toEqual({ outer, mid, inner, ok: true });
        }
        expect(check({ dtype, op, outer: 2, mid: 9, inner: 1 }, true)).toBeLessThanOrEqual(tol);
        expect(check({ dtype, op, outer: 1, mid: 9, inner: 6 }, true)).toBeLessThanOrEqual(tol);
      });
    }
  }
});
