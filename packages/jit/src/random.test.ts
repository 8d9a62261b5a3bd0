/**
 * The functional PRNG compiled (family "random", issue 18): threefry2x32 runs as the runtime
 * kernel `rt_threefry` (ir's block function, its source text) and interpreted inside WebAssembly
 * kernel programs; a key gives the same bits compiled as eagerly, and a jitted step fed a new key
 * draws new numbers.
 */
import { batchNorm, bind, dropout, embedding, random, sum, Tensor, tensor } from "@chainrule/ir";
import { afterEach, describe, expect, it } from "vitest";
import { configureKernels, grad, jit } from "./index.js";

afterEach(() => {
  configureKernels();
});

const values = (t: unknown) => Array.from((t as Tensor).data);

describe.each([
  ["JavaScript", false],
  ["WebAssembly kernel programs", true],
])("random keys compiled (%s)", (_name, everyProgram) => {
  it("split, foldIn, uniform, normal and bernoulli agree bit for bit with eager evaluation", () => {
    configureKernels({ everyProgram });
    const draw = (k: Tensor) => [
      random.split(k, 3),
      random.foldIn(k, 12),
      random.uniform(k, [4, 5]),
      random.normal(k, [7], { dtype: "float32" }),
      random.bernoulli(k, 0.25, [6]),
    ];
    const compiled = jit(draw);
    for (const seed of [0, 1, 2026]) {
      const k = random.key(seed);
      const eager = draw(k);
      const got = compiled(k) as Tensor[];
      got.forEach((t, i) => {
        expect(t.dtype).toBe(eager[i]!.dtype);
        expect(values(t)).toEqual(values(eager[i]));
      });
    }
  });

  it("a jitted step fed a new key each call gives new numbers (the key is an input, not a constant)", () => {
    configureKernels({ everyProgram });
    const step = jit((k: Tensor) => random.uniform(k, [3]));
    const first = values(step(random.key(1)));
    const second = values(step(random.key(2)));
    expect(first).not.toEqual(second);
    expect(values(step(random.key(1)))).toEqual(first);
  });

  it("broadcast keys against counters (keys [3, 1, 2], counters [2, 2]) as the eager kernel does", () => {
    configureKernels({ everyProgram });
    const keys = new Tensor("int32", [3, 1, 2], Int32Array.from([1, 2, 3, 4, -5, 6]));
    const counters = new Tensor("int32", [2, 2], Int32Array.from([0, 0, 7, 8]));
    const f = jit((a: Tensor, b: Tensor) => bind("threefry2x32", [a, b], {}));
    expect(values(f(keys, counters))).toEqual(values(bind("threefry2x32", [keys, counters], {})));
  });

  it("dropout under jit: the gradient is the mask over (1 − rate), as eagerly", () => {
    configureKernels({ everyProgram });
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8]);
    const loss = (v: Tensor, k: Tensor) => sum(dropout(v, 0.5, k));
    const k = random.key(3);
    const g = values(jit(grad(loss))(x, k));
    const y = values(dropout(x, 0.5, k));
    expect(g).toEqual(y.map((v) => (v === 0 ? 0 : 2)));
  });

  it("a jitted batchNorm step returns y and the updated running statistics as eagerly", () => {
    configureKernels({ everyProgram });
    const x = tensor([
      [1, 2],
      [3, 6],
      [0.5, -1],
    ]);
    const step = (v: Tensor, m: Tensor, s: Tensor) => batchNorm(v, { runningMean: m, runningVar: s, momentum: 0.2 });
    const eager = step(x, tensor([0.5, 1]), tensor([2, 3]));
    const compiled = jit(step)(x, tensor([0.5, 1]), tensor([2, 3])) as unknown as typeof eager;
    for (const key of ["y", "runningMean", "runningVar"] as const) {
      values(compiled[key]).forEach((v, i) => expect(v).toBeCloseTo(values(eager[key])[i]!, 14));
    }
  });

  it("embedding compiled: rows picked, repeated rows' gradients added, indices checked at run time with the eager message", () => {
    configureKernels({ everyProgram });
    const table = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const pick = jit((i: Tensor, t: Tensor) => embedding(i, t));
    const int32 = (v: number[]) => new Tensor("int32", [v.length], Int32Array.from(v));
    expect(values(pick(int32([2, 0, 2]), table))).toEqual([5, 6, 1, 2, 5, 6]);
    expect(values(jit(grad((t: Tensor, i: Tensor) => sum(embedding(i, t))))(table, int32([2, 0, 2])))).toEqual([1, 1, 0, 0, 2, 2]);
    expect(() => pick(int32([3]), table)).toThrow(/embedding: expected indices in \[0, 2\], got 3/);
  });
});
