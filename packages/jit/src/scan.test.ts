/**
 * The scan and sort primitives (issue 17) compiled: the JavaScript kernels and the WebAssembly
 * program agree with ir's eager kernels bitwise.
 */
import {
  argsort,
  bind,
  cummax,
  cummin,
  cumprod,
  cumsum,
  evalGraph,
  logcumsumexp,
  prod,
  sort,
  sum,
  tensor,
  topK,
  trace,
  type Tensor,
} from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { interpreter } from "./ad.js";
import { compileGraph, runCompiled } from "./compile.js";
import { optimize, toProgram } from "./optimize.js";
import { compileKernelProgram } from "./wasm/program.js";

function check(f: (...a: never[]) => unknown, ...args: Tensor[]): void {
  const g = trace(f, ...args);
  const want = evalGraph(g, args);
  const got = runCompiled(compileGraph(g, { kernels: false }), args);
  got.forEach((t, i) => {
    expect(t.dtype).toBe(want[i]!.dtype);
    expect(t.shape).toEqual(want[i]!.shape);
    expect(Array.from(t.data)).toEqual(Array.from(want[i]!.data));
  });
  const program = compileKernelProgram(optimize(toProgram(g)));
  expect(program).toBeDefined();
  if (program) {
    const raw = args.map((a) => (a.rank === 0 ? a.data[0]! : a.data));
    const out = program.run(...raw) as unknown[];
    out.forEach((o, i) => expect(Array.from((typeof o === "number" ? [o] : o) as ArrayLike<number>)).toEqual(Array.from(want[i]!.data)));
  }
}

const m = () =>
  tensor([
    [0.5, -1, 2, NaN],
    [3, 3, -0.25, 1],
  ]);

describe("scans and sorting compiled", () => {
  it("cumsum, cumprod, linearScan in reverse with broadcast coefficients", () => {
    check((x: Tensor) => [cumsum(x), cumsum(x, 0), cumprod(x), prod(x, 1)], m());
    check((x: Tensor) => [cumsum(x), cumprod(x)], tensor([2147483647, 1, -5, 65536], { dtype: "int32" }));
    check(
      (x: Tensor) => [cumsum(x, 0), cumprod(x, 1)],
      tensor(
        [
          [0.1, 0.2],
          [0.3, 0.7],
        ],
        { dtype: "float32" },
      ),
    );
    check(
      (a: Tensor, b: Tensor) => bind("linearScan", [a, b], { axis: 1, reverse: 1 }),
      tensor([[0.5], [-2]]),
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
  });
  it("cummax, cummin, logcumsumexp", () => {
    check((x: Tensor) => [cummax(x), cummin(x, 0), logcumsumexp(x)], m());
    check((x: Tensor) => [cummax(x), cummin(x)], tensor([3, -2147483648, 5, 5], { dtype: "int32" }));
  });
  it("sort, argsort and topK: stable, NaN last (largest in topK)", () => {
    check((x: Tensor) => [sort(x), argsort(x), argsort(x, 0), ...topK(x, 3)], m());
    check((x: Tensor) => [argsort(x), ...topK(x, 2)], tensor([1, 0, 1, 0, 1], { dtype: "int32" }));
  });
  it("gradients through them compile to the same values", () => {
    const w = tensor([
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
    const f = (x: Tensor) => sum(bind("mul", [w, bind("add", [sort(x), bind("add", [cummax(x, 0), cumprod(x)], {})], {})], {}));
    check(
      (x: Tensor) => interpreter.grad(f)(x),
      tensor([
        [0.5, -1, 2, 0],
        [3, 2.5, -0.25, 1],
      ]),
    );
  });
});
