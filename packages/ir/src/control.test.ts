/**
 * Structured control flow (issue 19) in ir: eager values against plain JS loops and branches,
 * the same functions staged by `trace` (one control node, whatever the trip count) and run by
 * `toFunction`, pytree carries, and the errors (naming the op and both structures).
 */
import { describe, expect, it } from "vitest";
import {
  add,
  ArgumentError,
  astype,
  cond,
  DTypeError,
  forLoop,
  graphToJSON,
  graphToText,
  GraphError,
  greater,
  less,
  mul,
  neg,
  parseGraph,
  scalar,
  scan,
  ShapeError,
  sin,
  sum,
  switchCase,
  tensor,
  toFunction,
  trace,
  whileLoop,
  type Tensor,
} from "./index.js";

const values = (t: unknown) => Array.from((t as Tensor).data);
const item = (t: unknown) => (t as Tensor).item();

describe("cond and switchCase", () => {
  const double = (a: Tensor) => mul(a, 2);
  const negate = (a: Tensor) => neg(a);
  const x = tensor([1, -2, 3]);

  it("run the branch the predicate picks (true: trueFn), with booleans, numbers and rank-0 tensors", () => {
    expect(values(cond(true, double, negate, x))).toEqual([2, -4, 6]);
    expect(values(cond(0, double, negate, x))).toEqual([-1, 2, -3]);
    expect(values(cond(scalar(1, "bool"), double, negate, x))).toEqual([2, -4, 6]);
    expect(values(cond(greater(scalar(-1), 0), double, negate, x))).toEqual([-1, 2, -3]);
  });

  it("switchCase clamps its index into range (JAX's lax.switch)", () => {
    const branches = [double, negate, (a: Tensor) => add(a, 10)];
    expect(values(switchCase(1, branches, x))).toEqual([-1, 2, -3]);
    expect(values(switchCase(7, branches, x))).toEqual([11, 8, 13]);
    expect(values(switchCase(-3, branches, x))).toEqual([2, -4, 6]);
    expect(values(switchCase(scalar(2, "int32"), branches, x))).toEqual([11, 8, 13]);
  });

  it("operands and results are pytrees", () => {
    const out = cond(
      true,
      (p: { a: Tensor; b: Tensor }) => ({ s: add(p.a, p.b), d: [p.a] }),
      (p: { a: Tensor; b: Tensor }) => ({ s: p.a, d: [p.b] }),
      {
        a: scalar(2),
        b: scalar(5),
      },
    ) as { s: Tensor; d: Tensor[] };
    expect(item(out.s)).toBe(7);
    expect(item(out.d[0])).toBe(2);
  });

  it("branches that disagree are an error naming the op and both structures", () => {
    expect(() =>
      cond(
        true,
        (a: Tensor) => a,
        (a: Tensor) => astype(a, "float32"),
        x,
      ),
    ).toThrow(DTypeError);
    expect(() =>
      cond(
        true,
        (a: Tensor) => a,
        (a: Tensor) => astype(a, "float32"),
        x,
      ),
    ).toThrow("cond: expected falseFn's result and trueFn's to agree in structure, shape and dtype, got f32[3] and f64[3]");
    expect(() => cond(true, (a: Tensor) => [a, a], ((a: Tensor) => a) as never, x)).toThrow(ShapeError);
    expect(() => switchCase(0, [(a: Tensor) => a, (a: Tensor) => sum(a)], x)).toThrow(/switchCase: .*f64\[3\] and .*f64\[\]/);
    expect(() => cond(tensor([1, 0]), double, negate, x)).toThrow("cond: expected pred to be a scalar (rank 0), got Tensor f64[2]");
    expect(() => cond(true, double, 3 as never, x)).toThrow(ArgumentError);
    expect(() => switchCase(0, [], x)).toThrow("switchCase: expected a non-empty array of branch functions, got an array of length 0");
  });
});

describe("loops, eagerly", () => {
  it("forLoop: upper exclusive, i an int32 scalar, carries are pytrees", () => {
    let a = 1;
    let b = 0;
    for (let i = 2; i < 7; i++) [a, b] = [a * 0.5 + i, b + a];
    const out = forLoop(
      2,
      7,
      (i: Tensor, c: { a: Tensor; b: Tensor }) => {
        expect(i.dtype).toBe("int32");
        return { a: add(mul(c.a, 0.5), astype(i, "float64")), b: add(c.b, c.a) };
      },
      { a: scalar(1), b: scalar(0) },
    ) as { a: Tensor; b: Tensor };
    expect(item(out.a)).toBe(a);
    expect(item(out.b)).toBe(b);
    // an empty range returns the initial carry
    expect(item(forLoop(3, 3, (_i: Tensor, c: Tensor) => add(c, 1), scalar(5)))).toBe(5);
  });

  it("scan: [carry, ys] with ys stacked in step order, reverse scans from the last x", () => {
    const xs = [0.5, -1, 2, 4];
    let c = 1;
    const ys: number[] = [];
    for (const x of xs) {
      ys.push(c * x);
      c = Math.sin(c) + x;
    }
    const [carry, stacked] = scan((k: Tensor, x: Tensor) => [add(sin(k), x), mul(k, x)], scalar(1), tensor(xs)) as [Tensor, Tensor];
    expect(item(carry)).toBe(c);
    expect(values(stacked)).toEqual(ys);
    // reverse: carry runs from the last x; ys[t] still belongs to xs[t]
    const [rc, rys] = scan((k: Tensor, x: Tensor) => [add(k, x), k], scalar(0), tensor([1, 2, 3]), { reverse: true }) as [Tensor, Tensor];
    expect(item(rc)).toBe(6);
    expect(values(rys)).toEqual([5, 3, 0]);
    // no xs: a length
    const [n, counts] = scan((k: Tensor) => [add(k, 1), k], scalar(0), null, { length: 3 }) as [Tensor, Tensor];
    expect([item(n), ...values(counts)]).toEqual([3, 0, 1, 2]);
  });

  it("whileLoop runs while condFn holds", () => {
    let c = 1;
    while (c < 100) c *= 3;
    expect(
      item(
        whileLoop(
          (k: Tensor) => less(k, 100),
          (k: Tensor) => mul(k, 3),
          scalar(1),
        ),
      ),
    ).toBe(c);
  });

  it("a carry that changes type is an error naming the op and both structures", () => {
    expect(() => forLoop(0, 2, (_i: Tensor, c: Tensor) => astype(c, "float32"), tensor([1, 2]))).toThrow(
      "forLoop: expected the initial carry and the body's carry to agree in structure, shape and dtype, got f64[2] and f32[2]",
    );
    expect(() => scan(((k: Tensor, x: Tensor) => [[k], x]) as never, scalar(0), tensor([1, 2]))).toThrow(ShapeError);
    expect(() => whileLoop((k: Tensor) => less(k, 3), ((k: Tensor) => [k, k]) as never, scalar(0))).toThrow(
      "whileLoop: expected the initial carry and bodyFn's carry to agree in structure, shape and dtype, got f64[] and [f64[], f64[]]",
    );
    expect(() => scan(((k: Tensor) => k) as never, scalar(0), tensor([1]))).toThrow(
      "scan: expected f to return [carry, y], got Tensor f64[]",
    );
    expect(() => scan((k: Tensor) => [k, k], scalar(0), { a: tensor([1, 2]), b: tensor([1]) })).toThrow(ShapeError);
    expect(() => forLoop(0.5, 2, (_i: Tensor, c: Tensor) => c, scalar(0))).toThrow("forLoop: expected lower to be an integer, got 0.5");
  });
});

describe("control flow staged by trace", () => {
  it("a 10⁶-step forLoop is one node, and runs", () => {
    const small = trace((x: Tensor) => forLoop(0, 10, (_i: Tensor, c: Tensor) => add(mul(c, 0.5), x), scalar(0)), scalar(1));
    const big = trace((x: Tensor) => forLoop(0, 1_000_000, (_i: Tensor, c: Tensor) => add(mul(c, 0.5), x), scalar(0)), scalar(1));
    expect(big.nodes.length).toBe(small.nodes.length);
    expect(big.nodes.map((n) => n.op)).toEqual(["control"]);
    let c = 0;
    for (let i = 0; i < 10; i++) c = c * 0.5 + 3;
    expect(item(toFunction(small)(3))).toBe(c);
  });

  it("a cond on a traced predicate traces both branches; toFunction picks one at run time", () => {
    const g = trace(
      (p: Tensor, x: Tensor) =>
        cond(
          greater(p, 0),
          (a: Tensor) => mul(a, 2),
          (a: Tensor) => neg(a),
          x,
        ),
      scalar(1),
      tensor([1, 2]),
    );
    const f = toFunction(g);
    expect(values(f(1, tensor([1, 2])))).toEqual([2, 4]);
    expect(values(f(-1, tensor([1, 2])))).toEqual([-1, -2]);
    expect(graphToText(g)).toContain("// cond of 2 branches");
    const loop = trace((x: Tensor) => forLoop(0, 7, (_i: Tensor, c: Tensor) => add(c, x), scalar(0)), scalar(1));
    expect(graphToText(loop)).toContain("= control(c1, x0) {call=");
    expect(graphToText(loop)).toContain("// loop of 7 steps (body: 1 nodes)");
  });

  it("scan and whileLoop, with values the body closes over", () => {
    const g = trace(
      (w: Tensor, xs: Tensor) => scan((c: Tensor, x: Tensor) => [add(mul(c, w), x), mul(c, c)], scalar(0), xs),
      scalar(2),
      tensor([1, 2, 3]),
    );
    const [c, ys] = toFunction(g)(2, tensor([1, 2, 3])) as [Tensor, Tensor];
    expect(item(c)).toBe(((0 * 2 + 1) * 2 + 2) * 2 + 3);
    expect(values(ys)).toEqual([0, 1, 16]);
    const w = trace(
      (k: Tensor) =>
        whileLoop(
          (v: Tensor) => less(v, 100),
          (v: Tensor) => mul(v, k),
          scalar(1),
        ),
      scalar(3),
    );
    expect(item(toFunction(w)(3))).toBe(243);
    const bounds = trace(
      (n: Tensor) => forLoop(0, n, (i: Tensor, v: Tensor) => add(v, astype(i, "float64")), scalar(0)),
      scalar(5, "int32"),
    );
    expect(item(toFunction(bounds)(scalar(5, "int32")))).toBe(10);
  });

  it("graphs with control nodes do not serialize", () => {
    const g = trace((x: Tensor) => forLoop(0, 3, (_i: Tensor, c: Tensor) => add(c, x), scalar(0)), scalar(1));
    expect(() => graphToJSON(g)).toThrow(GraphError);
    const json = graphToJSON(trace((x: Tensor) => add(x, 1), scalar(1))) as { nodes: object[] };
    const forged = { ...json, nodes: [{ ...json.nodes[0]!, op: "control", inputs: [0], params: { call: 1, output: 0 } }] };
    expect(() => parseGraph(JSON.stringify(forged))).toThrow(/control/);
  });
});
