/**
 * vmap in ir (eager): results against loops and hand-computed values, inAxes/outAxes (numbers,
 * null, negative axes, pytrees), nesting, custom rules, and the errors. Composition with the
 * engines (grad of vmap, vmap of grad, jit of vmap) is tested in each engine package and in the
 * conformance suite.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { expectError, expectTensor } from "./__tests__/helpers.js";
import {
  add,
  ArgumentError,
  ConcretizationError,
  customJvp,
  exp,
  greater,
  matmul,
  mul,
  reshape,
  ShapeError,
  sin,
  stack,
  sum,
  take,
  tensor,
  type Tensor,
  vmap,
  vmapFallbacks,
  where,
  BatchingUnsupported,
  type BatchRule,
} from "./index.js";
import { applyBatchRule, forgetFallbacks } from "./vmap.js";

const xs = tensor([
  [1, 2, 3],
  [4, 5, 6],
]);

describe("vmap", () => {
  it("maps over the leading axis: vmap(f)(xs) stacks f(x) for each row", () => {
    const f = (x: Tensor) => sum(mul(sin(x), x));
    const got = vmap(f)(xs);
    const rows = [0, 1].map((i) => f(take(xs, i, 0)));
    expectTensor(got, [rows[0]!.item(), rows[1]!.item()], { shape: [2] });
    // row 0 by hand: Σ x·sin x
    expect(got.data[0]).toBeCloseTo(Math.sin(1) + 2 * Math.sin(2) + 3 * Math.sin(3), 14);
  });

  it("inAxes: a shared argument (null), a mapped column axis, a negative axis", () => {
    const w = tensor([10, 20, 30]);
    expectTensor(vmap((x: Tensor, v: Tensor) => sum(mul(x, v)), { inAxes: [0, null] })(xs, w), [140, 320]);
    // axis 1: the columns [1, 4], [2, 5], [3, 6]
    expectTensor(vmap((c: Tensor) => sum(c), { inAxes: 1 })(xs), [5, 7, 9]);
    expectTensor(vmap((c: Tensor) => sum(c), { inAxes: -1 })(xs), [5, 7, 9]);
  });

  it("outAxes: the batch axis placed at 1, at -1, or kept out (null) for a value shared by the batch", () => {
    const f = (x: Tensor) => mul(x, 2);
    expectTensor(vmap(f, { outAxes: 1 })(xs), [
      [2, 8],
      [4, 10],
      [6, 12],
    ]);
    expectTensor(vmap(f, { outAxes: -1 })(xs), [
      [2, 8],
      [4, 10],
      [6, 12],
    ]);
    const [mapped, shared] = vmap((x: Tensor) => [sum(x), tensor([7, 8])], { outAxes: [0, null] })(xs) as [Tensor, Tensor];
    expectTensor(mapped, [6, 15]);
    expectTensor(shared, [7, 8]);
  });

  it("an output that does not depend on the batch is broadcast over it (outAxes 0); a JS number too", () => {
    const [a, b] = vmap((_x: Tensor) => [tensor([1, 2]), 3])(xs) as [Tensor, Tensor];
    expectTensor(a, [
      [1, 2],
      [1, 2],
    ]);
    expectTensor(b, [3, 3]);
  });

  it("pytree arguments and results, inAxes matching the structure (a tree prefix)", () => {
    const params = { w: tensor([1, -1, 2]), b: tensor(0.5) };
    const predict = (p: { w: Tensor; b: Tensor }, x: Tensor) => ({ y: add(sum(mul(p.w, x)), p.b), x2: mul(x, x) });
    const out = vmap(predict, { inAxes: [{ w: null, b: null }, 0] })(params, xs) as { y: Tensor; x2: Tensor };
    expectTensor(out.y, [1 - 2 + 6 + 0.5, 4 - 5 + 12 + 0.5]);
    expectTensor(out.x2, [
      [1, 4, 9],
      [16, 25, 36],
    ]);
    // per-leaf out axes
    const t = vmap(predict, { inAxes: [null, 0], outAxes: { y: 0, x2: 1 } })(params, xs) as { y: Tensor; x2: Tensor };
    expect(t.x2.shape).toEqual([3, 2]);
  });

  it("matmul against a loop, with the matrix shared and the vectors mapped", () => {
    const a = tensor([
      [1, 2, 3],
      [0, -1, 4],
    ]);
    const got = vmap((x: Tensor) => matmul(a, x))(xs);
    expectTensor(got, [
      [14, 10],
      [32, 19],
    ]);
  });

  it("gather with batched indices: each element picks its own entries", () => {
    const idx = tensor(
      [
        [2, 0],
        [-1, 1],
      ],
      { dtype: "int32" },
    );
    expectTensor(vmap((x: Tensor, i: Tensor) => take(x, i))(xs, idx), [
      [3, 1],
      [6, 5],
    ]);
    // shared data, batched indices
    expectTensor(vmap((i: Tensor) => take(tensor([10, 20, 30]), i))(idx), [
      [30, 10],
      [30, 20],
    ]);
    // an index out of range is still an error
    expect(() => vmap((i: Tensor) => take(tensor([10, 20, 30]), i))(tensor([[3, 0]], { dtype: "int32" }))).toThrow(/indices/);
  });

  it("vmap of vmap: an outer product", () => {
    const a = tensor([1, 2]);
    const b = tensor([10, 20, 30]);
    const outer = vmap((x: Tensor) => vmap((y: Tensor) => mul(x, y))(b))(a);
    expectTensor(outer, [
      [10, 20, 30],
      [20, 40, 60],
    ]);
    // the inner vmap maps the other argument: inAxes across levels
    const table = vmap(
      vmap((x: Tensor, y: Tensor) => add(x, y), { inAxes: [null, 0] }),
      { inAxes: [0, null] },
    )(a, b);
    expectTensor(table, [
      [11, 21, 31],
      [12, 22, 32],
    ]);
  });

  it("where on a batched condition selects per element; an if on a batched value is a ConcretizationError", () => {
    expectTensor(vmap((x: Tensor) => where(greater(x, 2.5), x, 0))(xs), [
      [0, 0, 3],
      [4, 5, 6],
    ]);
    expect(() => vmap((x: Tensor) => (sum(x).item() > 0 ? x : mul(x, 0)))(xs)).toThrow(ConcretizationError);
  });

  it("a customJvp function stays custom: its rule runs batched", () => {
    let calls = 0;
    const f = customJvp(
      (x: Tensor) => exp(x),
      (primals, tangents) => {
        calls++;
        return [exp(primals[0]!), mul(exp(primals[0]!), tangents[0]!)];
      },
    );
    expectTensor(vmap(f)(tensor([0, 1])), [1, Math.E], { digits: 14 });
    expect(calls).toBe(0);
  });

  it("reshape and reductions see the per-element shape", () => {
    expectTensor(vmap((x: Tensor) => sum(reshape(x, [3, 1]), 0))(xs), [[6], [15]]);
    expectTensor(vmap((x: Tensor) => stack([x, x], 1))(tensor([[1, 2]])), [
      [
        [1, 1],
        [2, 2],
      ],
    ]);
  });

  it("no rule of the built-in primitives falls back to a loop", () => {
    vmap((x: Tensor, i: Tensor) => take(x, i))(xs, tensor([[0], [1]], { dtype: "int32" }));
    expect(vmapFallbacks()).toEqual([]);
  });

  it("axisSize maps a function of no mapped argument", () => {
    expectTensor(vmap((x: Tensor) => mul(x, 2), { inAxes: null, axisSize: 3 })(tensor(1)), [2, 2, 2]);
  });
});

describe("the fallback loop", () => {
  afterEach(() => {
    forgetFallbacks();
    vi.restoreAllMocks();
  });

  it("a rule that refuses a case is replaced by a loop over the batch, reported once (a warning and vmapFallbacks())", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const refuses: BatchRule<"mul"> = () => {
      throw new BatchingUnsupported("mul: this rule batches nothing");
    };
    const a = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const b = tensor([10, 100]);
    const out = { shape: [2], dtype: "float64" as const };
    const run = () => applyBatchRule("mul", refuses, [a, b], [true, false], {}, 3, out);
    expectTensor(run(), [
      [10, 200],
      [30, 400],
      [50, 600],
    ]);
    run();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toBe(
      "vmap: mul is batched by a loop over the batch (mul: this rule batches nothing); see vmapFallbacks()",
    );
    expect(vmapFallbacks()).toEqual([{ primitive: "mul", reason: "mul: this rule batches nothing" }]);
  });

  it("any other error of a rule propagates; a rule returning the wrong shape is an internal error", () => {
    const throws: BatchRule<"mul"> = () => {
      throw new ShapeError("mul: bad");
    };
    const wrong: BatchRule<"mul"> = ([a]) => a!;
    const args = [tensor([[1], [2]]), tensor([3])];
    const out = { shape: [1], dtype: "float64" as const };
    expectError(() => applyBatchRule("mul", throws, args, [true, false], {}, 2, out), ShapeError, "mul: bad");
    expect(() => applyBatchRule("mul", wrong, [tensor([1, 2]), tensor(3)], [true, false], {}, 2, out)).toThrow(
      /internal: the batching rule of mul returned float64\[2\], expected float64\[2,1\]/,
    );
    expect(vmapFallbacks()).toEqual([]);
  });
});

describe("vmap errors", () => {
  it("mismatched batch sizes name both arguments", () => {
    expectError(
      () => vmap((a: Tensor, b: Tensor) => add(a, b))(xs, tensor([1, 2, 3])),
      ShapeError,
      "vmap: expected one batch size for all mapped arguments, got size 2 for args[0] (axis 0) and size 3 for args[1] (axis 0)",
    );
  });

  it("an axis out of range names the argument", () => {
    expectError(
      () => vmap((a: Tensor) => a, { inAxes: 2 })(xs),
      ShapeError,
      "vmap: expected inAxes for args[0] in [-2, 1] (rank 2), got 2",
    );
    expectError(() => vmap((a: Tensor) => a, { outAxes: 2 })(xs), ShapeError, "vmap: expected outAxes for out in [-2, 1] (rank 2), got 2");
    expectError(
      () => vmap((a: number) => a)(3),
      ShapeError,
      "vmap: expected inAxes null for the JS number at args[0] (a number has no axis to map), got 0",
    );
  });

  it("inAxes must match the arguments", () => {
    expectError(
      () => vmap((a: Tensor) => a, { inAxes: [0, 0] })(xs),
      ArgumentError,
      "vmap: expected inAxes to have one entry per argument (1 argument), got 2",
    );
    expectError(
      () => vmap((a: Tensor) => a, { inAxes: null })(xs),
      ArgumentError,
      "vmap: expected at least one argument with a mapped axis, got inAxes null for every argument (or pass axisSize)",
    );
    expectError(() => vmap((a: Tensor) => a, { inAxes: 0.5 }), ArgumentError, "vmap: expected integer inAxes, got 0.5 for inAxes");
  });

  it("outAxes null for an output that varies over the batch", () => {
    expectError(
      () => vmap((a: Tensor) => a, { outAxes: null })(xs),
      ArgumentError,
      "vmap: expected the output out not to vary over the batch (outAxes null), got one that does (f64[3] per element)",
    );
  });

  it("unknown options and a non-function", () => {
    expectError(
      () => vmap((a: Tensor) => a, { inAxis: 0 } as never),
      ArgumentError,
      "vmap: unknown option inAxis (vmap takes inAxes, outAxes, axisSize)",
    );
    expectError(() => vmap(3 as never), ArgumentError, "vmap: expected a function, got number 3");
  });
});
