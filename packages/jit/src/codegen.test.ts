import { describe, expect, it } from "vitest";
import {
  add,
  evalGraph,
  mul,
  slice,
  sub,
  sum,
  tensor,
  trace,
  exp,
  pad,
  transpose,
  reshape,
  matmul,
  max,
  concat,
  take,
  argmax,
  broadcastTo,
  where,
  greater,
  type Tensor,
} from "@chainrule/ir";
import { compileGraph, runCompiled } from "./compile.js";
import { interpreter } from "./ad.js";

function check(f: (...a: never[]) => unknown, ...args: Tensor[]) {
  const g = trace(f, ...args);
  const c = compileGraph(g);
  const got = runCompiled(c, args);
  const want = evalGraph(g, args);
  got.forEach((t, i) => {
    expect(t.shape).toEqual(want[i]!.shape);
    expect(t.dtype).toBe(want[i]!.dtype);
    expect(Array.from(t.data)).toEqual(Array.from(want[i]!.data));
  });
  return c;
}

describe("codegen", () => {
  it("seed scalar", () => {
    const c = check((x: Tensor, y: Tensor) => mul(add(x, y), sub(x, y)), tensor(3), tensor(2));
    expect(c.source).not.toContain("Array");
  });
  it("rosenbrock grad", () => {
    const rosen = (x: Tensor) => {
      const a = slice(x, [0], [-1]);
      const b = slice(x, [1]);
      return sum(add(mul(100, mul(sub(b, mul(a, a)), sub(b, mul(a, a)))), mul(sub(1, a), sub(1, a))));
    };
    const x = tensor([0.5, 1.5, -0.3, 2, 0.1]);
    check(rosen, x);
    const c = check((x: Tensor) => interpreter.grad(rosen)(x), x);
    console.log(c.source);
  });
  it("misc kernels", () => {
    const m = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    check(
      (m: Tensor) => [
        transpose(m),
        exp(reshape(m, [3, 2])),
        pad(m, [1, 0]) ?? m,
        max(m, 1),
        argmax(m, 1),
        concat([m, m], 1),
        take(m, tensor([1, 0], { dtype: "int32" }), 1),
      ],
      m,
    );
    check((m: Tensor) => [matmul(m, transpose(m)), broadcastTo(sum(m, 0), [4, 3]), where(greater(m, 2), m, 0)], m);
  });
});
