/**
 * Eager elementwise fusion (fusion.ts): a lazy expression computes exactly what ir's eager kernels
 * compute, primitive by primitive — bit for bit in float64 and float32, special values included —
 * whether it is read whole (`.data`) or summed (`fusedSum`), through slices and zero pads that are
 * contiguous blocks. The property draws random expressions (fast-check; the seed is printed, rerun
 * with CHAINRULE_SEED=…) and evaluates each twice: with `fuse` (lazy, one generated loop) and with
 * ir's ops (one kernel per primitive, the reference).
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DType } from "./dtype.js";
import { ArgumentError } from "./errors.js";
import {
  fuse,
  fusedSum,
  fuseFill,
  fusionStatus,
  isPending,
  LazyTensor,
  resetFusionStats,
  setFusion,
  type FusionOperand,
} from "./fusion.js";
import { bind } from "./trace.js";
import { sum } from "./ops.js";
import { tensor, type Tensor } from "./tensor.js";
import type { Primitive } from "./primitives.js";

const SEED = Number(process.env.CHAINRULE_SEED ?? Date.now() % 100_000);
const N = 37;

beforeEach(() => {
  setFusion({ enabled: true, minSize: 1 });
});
afterEach(() => {
  setFusion({ enabled: true, minSize: 4096 });
});

const UNARY: Primitive[] = ["neg", "exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "expm1", "log1p", "erf", "atan", "floor"];
const BINARY: Primitive[] = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "mulNoNan", "atan2", "hypot", "fmod"];

/** A random expression: a tree of primitives over leaves (full arrays, size-1 values, JS numbers). */
type Expr =
  | { kind: "leaf"; index: number }
  | { kind: "scalar"; value: number }
  | { kind: "number"; value: number }
  | { kind: "unary"; op: Primitive; x: Expr }
  | { kind: "binary"; op: Primitive; a: Expr; b: Expr };

const special = fc.constantFrom(0, -0, 1, -1, 0.5, 2, Number.POSITIVE_INFINITY, Number.NaN, 1e-310, 3.25);
const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ kind: fc.constant("leaf" as const), index: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant("scalar" as const), value: special }),
    fc.record({ kind: fc.constant("number" as const), value: special }),
    fc.record({ kind: fc.constant("unary" as const), op: fc.constantFrom(...UNARY), x: tie("expr") }),
    fc.record({ kind: fc.constant("binary" as const), op: fc.constantFrom(...BINARY), a: tie("expr"), b: tie("expr") }),
  ),
})).expr;

function leaves(dtype: DType, seed: number): Tensor[] {
  const values = (k: number) =>
    Array.from({ length: N }, (_, i) => {
      const v = Math.sin(seed + 7 * k + i * 1.3) * 3;
      return i % 11 === 5 ? [0, -0, Number.POSITIVE_INFINITY, Number.NaN][(i + k) % 4]! : v;
    });
  return [0, 1, 2].map((k) => tensor(values(k), { dtype }));
}

/** Evaluates `e` with `apply` (fused or eager); a full-array operand is guaranteed by wrapping a leaf when needed. */
function evaluate(e: Expr, xs: Tensor[], dtype: DType, apply: (op: Primitive, args: FusionOperand[]) => Tensor): Tensor | number {
  switch (e.kind) {
    case "leaf":
      return xs[e.index]!;
    case "scalar":
      return tensor(e.value, { dtype });
    case "number":
      return e.value;
    case "unary": {
      const x = evaluate(e.x, xs, dtype, apply);
      return apply(e.op, [typeof x === "number" ? tensor(x, { dtype }) : x]);
    }
    case "binary": {
      const a = evaluate(e.a, xs, dtype, apply);
      const b = evaluate(e.b, xs, dtype, apply);
      if (typeof a === "number" && typeof b === "number") return apply(e.op, [tensor(a, { dtype }), b]);
      return apply(e.op, [a, b]);
    }
  }
}

const eagerApply = (dtype: DType) => (op: Primitive, args: FusionOperand[]) =>
  bind(
    op,
    args.map((a) => (typeof a === "number" ? tensor(a, { dtype }) : a)),
    {},
  );
const fusedApply = (dtype: DType) => (op: Primitive, args: FusionOperand[]) => fuse(op, args) ?? eagerApply(dtype)(op, args);

function bits(t: Tensor): string[] {
  return Array.from(t.data as Float64Array, (v) => (Object.is(v, -0) ? "-0" : String(v)));
}

describe(`fusion: lazy expressions equal ir's kernels bit for bit (seed ${SEED})`, () => {
  for (const dtype of ["float64", "float32"] as const) {
    it(`${dtype}: read whole and summed`, () => {
      fc.assert(
        fc.property(exprArb, fc.integer({ min: 0, max: 1000 }), (e, s) => {
          const xs = leaves(dtype, s);
          // the result must be an array: add a full leaf when the expression has none
          const full: Expr = { kind: "binary", op: "add", a: e, b: { kind: "leaf", index: 0 } };
          const want = evaluate(full, xs, dtype, eagerApply(dtype)) as Tensor;
          const lazy = evaluate(full, xs, dtype, fusedApply(dtype)) as Tensor;
          expect(lazy).toBeInstanceOf(LazyTensor);
          const total = fusedSum(lazy as LazyTensor);
          const wantTotal = sum(want).item();
          expect(Object.is(total, wantTotal) || (Number.isNaN(total) && Number.isNaN(wantTotal))).toBe(true);
          expect(lazy.shape).toEqual(want.shape);
          expect(lazy.dtype).toBe(dtype);
          expect(bits(lazy)).toEqual(bits(want));
          expect(isPending(lazy)).toBe(false);
        }),
        { seed: SEED, numRuns: 150 },
      );
    });
  }

  it("slices and zero pads that are contiguous blocks read the right elements, inside expressions", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 4 }), (lo, cut, extra) => {
        const x = tensor(
          Array.from({ length: 4 * 5 }, (_, i) => i * 0.75 - 3),
          { dtype: "float64" },
        );
        const rows = bind("reshape", [x], { shape: [4, 5] });
        const end = Math.max(1, 4 - (cut % 4));
        const sliceParams = { begin: [0, 0], end: [end, 5] };
        const padParams = { low: [lo % 3, 0], high: [extra, 0] };
        const eager = bind("pad", [bind("exp", [bind("slice", [rows], sliceParams)], {})], padParams);
        // an identity slice or pad is no block: fusion declines it and the kernel runs
        const lazySlice = fuse("slice", [rows], sliceParams) ?? bind("slice", [rows], sliceParams);
        const inner = fuse("exp", [lazySlice])!;
        const lazy = fuse("pad", [inner], padParams) ?? bind("pad", [inner], padParams);
        expect(lazy.shape).toEqual(eager.shape);
        expect(bits(lazy)).toEqual(bits(eager));
      }),
      { seed: SEED, numRuns: 40 },
    );
  });

  it("a pad along a later axis, or a strided block, is not a contiguous block: fusion declines it", () => {
    const m = bind(
      "reshape",
      [
        tensor(
          Array.from({ length: 12 }, (_, i) => i),
          { dtype: "float64" },
        ),
      ],
      { shape: [3, 4] },
    );
    expect(fuse("pad", [m], { low: [0, 1], high: [0, 0] })).toBeUndefined();
    expect(fuse("slice", [m], { begin: [0, 1], end: [3, 3] })).toBeUndefined();
    // rows 1..2 of a [3, 4]: one block of 8 elements from element 4
    const rows = fuse("slice", [m], { begin: [1, 0], end: [3, 4] })!;
    expect(Array.from(rows.data)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it("fuseFill broadcasts a size-1 value", () => {
    const filled = fuseFill(tensor(2.5, { dtype: "float32" }), [2, 3])!;
    expect(filled.shape).toEqual([2, 3]);
    expect(Array.from(filled.data)).toEqual([2.5, 2.5, 2.5, 2.5, 2.5, 2.5]);
  });
});

describe("fusion: what it takes and what it declines", () => {
  it("declines results below minSize, mixed dtypes, broadcasting that changes the shape, and non-float operands", () => {
    setFusion({ minSize: 64 });
    const small = tensor(
      Array.from({ length: 10 }, () => 1),
      { dtype: "float64" },
    );
    expect(fuse("add", [small, small])).toBeUndefined();
    setFusion({ minSize: 1 });
    const f32 = tensor([1, 2, 3], { dtype: "float32" });
    const f64 = tensor([1, 2, 3], { dtype: "float64" });
    expect(fuse("add", [f32, f64])).toBeUndefined();
    const column = tensor([[1], [2], [3]], { dtype: "float64" });
    expect(fuse("add", [column, f64])).toBeUndefined();
    expect(fuse("add", [tensor([1, 2, 3], { dtype: "int32" }), tensor([1, 2, 3], { dtype: "int32" })])).toBeUndefined();
    expect(fuse("greater", [f64, f64])).toBeUndefined();
    // [n] with [1, n]: the same elements, the result has the higher rank
    const row = tensor([[1, 2, 3]], { dtype: "float64" });
    expect(fuse("add", [f64, row])!.shape).toEqual([1, 3]);
  });

  it("setFusion({ enabled: false }) makes fuse decline everything; fusionStatus reports why", () => {
    const previous = setFusion({ enabled: false });
    expect(previous).toEqual({ enabled: true, minSize: 1 });
    expect(fuse("add", [tensor([1, 2], { dtype: "float64" }), 1])).toBeUndefined();
    expect(fusionStatus()).toMatchObject({ enabled: false, reason: "turned off with setFusion({ enabled: false })" });
  });

  it("counts lazy values, computations, fused sums and compiled loops", () => {
    resetFusionStats();
    const x = tensor(
      Array.from({ length: 50 }, (_, i) => i / 7),
      { dtype: "float64" },
    );
    const y = fuse("mul", [fuse("sin", [x])!, 2])!;
    expect(fusedSum(y)).toBeCloseTo(
      Array.from({ length: 50 }, (_, i) => 2 * Math.sin(i / 7)).reduce((a, b) => a + b),
      12,
    );
    void y.data;
    void y.data;
    const status = fusionStatus();
    expect(status).toMatchObject({ enabled: true, available: true, reason: "", minSize: 1, lazy: 2, materialized: 1, fusedSums: 1 });
  });

  it("a long chain is computed in pieces (the expression's size is bounded), with the same bits", () => {
    const x = tensor(
      Array.from({ length: 20 }, (_, i) => 1 + i / 20),
      { dtype: "float64" },
    );
    let lazy: Tensor = x;
    let eager: Tensor = x;
    for (let k = 0; k < 200; k++) {
      lazy = fuse(k % 2 === 0 ? "sin" : "add", k % 2 === 0 ? [lazy] : [lazy, 0.25])!;
      eager = k % 2 === 0 ? bind("sin", [eager], {}) : bind("add", [eager, tensor(0.25, { dtype: "float64" })], {});
    }
    expect((lazy as LazyTensor).weight).toBeLessThanOrEqual(48);
    expect(bits(lazy)).toEqual(bits(eager));
  });

  it("setFusion rejects bad options by name", () => {
    expect(() => setFusion({ minSize: 0 })).toThrow(ArgumentError);
    expect(() => setFusion({ minSize: 0 })).toThrow("setFusion: expected minSize to be a positive integer, got number 0");
    expect(() => setFusion({ enabled: "yes" as unknown as boolean })).toThrow("setFusion: expected enabled to be a boolean");
    expect(() => setFusion({ size: 3 } as never)).toThrow('setFusion: unknown option "size"');
    expect(() => setFusion(null as never)).toThrow("setFusion: expected an options object");
  });
});
