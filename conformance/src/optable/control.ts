/**
 * Structured control flow (issue 19): `cond`, `switchCase`, `forLoop`, `scan`, `whileLoop` from
 * @chainrule/ir, which every engine must run with one semantics. Each case compares the engine
 * on the control-flow function with the same engine on the function written with plain JS loops
 * and branches (unrolled), at orders 1 and 2, and against hand-computed values where they are
 * short. whileLoop is forward-differentiable only: reverse mode must raise an ArgumentError
 * naming whileLoop (JAX's error).
 */
import * as ir from "@chainrule/ir";
import { ChainruleError, type Tensor, tensor } from "@chainrule/ir";
import type { Case } from "../cases.js";
import { loose, type LooseEngine } from "../checkgrads.js";
import { ConformanceError, expectClose } from "../expect.js";

type Fn = (...args: never[]) => unknown;
const GROUP = "structured control flow";
const TIGHT = 1e-11;

/** The value, grad and grad of grad of `f` and of `unrolled` at `x` agree in engine `e`. */
function sameToOrder2(e: LooseEngine, what: string, f: Fn, unrolled: Fn, x: number): void {
  const at = ir.scalar(x);
  expectClose(`${what}(${x})`, (f as (x: Tensor) => unknown)(at), (unrolled as (x: Tensor) => unknown)(at), TIGHT, TIGHT);
  expectClose(`grad(${what})(${x})`, e.grad(f as never)(x), e.grad(unrolled as never)(x), TIGHT, TIGHT);
  expectClose(
    `grad(grad(${what}))(${x})`,
    e.grad(e.grad(f as never) as never)(x),
    e.grad(e.grad(unrolled as never) as never)(x),
    TIGHT,
    TIGHT,
  );
  expectClose(`jvp(${what}, [${x}], [1])`, e.jvp(f as never, [x], [1])[1], e.jvp(unrolled as never, [x], [1])[1], TIGHT, TIGHT);
}

const step = (x: Tensor, c: Tensor) => ir.add(ir.mul(ir.sin(c), x), 0.25);

const forLoopF = (x: Tensor) => ir.forLoop(0, 6, (_i: Tensor, c: Tensor) => step(x, c), x) as Tensor;
const forLoopUnrolled = (x: Tensor) => {
  let c = x;
  for (let i = 0; i < 6; i++) c = step(x, c);
  return c;
};

const XS = [0.5, -1.25, 2, 0.75];
/** A scan whose body closes over w and reads x: a tanh recurrence, ys = carries squared. */
const scanF = (w: Tensor) => {
  const [last, ys] = ir.scan((c: Tensor, x: Tensor) => [ir.tanh(ir.add(ir.mul(c, w), x)), ir.mul(c, c)], ir.mul(w, 0.5), tensor(XS)) as [
    Tensor,
    Tensor,
  ];
  return ir.add(last, ir.sum(ys));
};
const scanUnrolled = (w: Tensor) => {
  let c = ir.mul(w, 0.5);
  let total: Tensor = ir.scalar(0);
  for (const x of XS) {
    total = ir.add(total, ir.mul(c, c));
    c = ir.tanh(ir.add(ir.mul(c, w), x));
  }
  return ir.add(c, total);
};

const positive = (a: Tensor) => ir.mul(a, ir.sin(a));
const negative = (a: Tensor) => ir.neg(ir.exp(a));
const condF = (x: Tensor) => ir.cond(ir.greater(x, 0), positive, negative, x) as Tensor;
/** The branch cond takes at x (picked here, from the JS number: a tracing engine cannot branch on data). */
const condTaken = (x: number) => (x > 0 ? positive : negative);

const BRANCHES = [(a: Tensor) => ir.mul(a, a), (a: Tensor) => ir.sin(a), (a: Tensor) => ir.mul(ir.exp(a), 3)];
/** The branch index is floor(x) + 1, clamped into [0, 2] by switchCase. */
const switchF = (x: Tensor) => ir.switchCase(ir.add(ir.floor(x), 1), BRANCHES, x) as Tensor;
const switchTaken = (x: number) => BRANCHES[Math.min(2, Math.max(0, Math.floor(x) + 1))]!;

/** Doubling until ≥ 10: d/dx = 2ⁿ (n the trip count, which depends on x). */
const whileF = (x: Tensor) =>
  ir.whileLoop(
    (c: Tensor) => ir.less(c, 10),
    (c: Tensor) => ir.mul(c, 2),
    x,
  ) as Tensor;

/**
 * Reverse mode of a whileLoop raises an ArgumentError naming whileLoop and what to use instead;
 * an engine whose grad/vjp is forward mode (the forward engine) returns the right value instead.
 */
function expectRefusedOrForward(what: string, call: () => unknown, expected: number): void {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    const refused = error instanceof ChainruleError && error.code === "ARGUMENT" && /whileLoop/.test(error.message);
    if (refused && /forLoop/.test(error.message) && /scan/.test(error.message)) return;
    throw new ConformanceError(`${what}: expected an ArgumentError naming whileLoop, forLoop and scan, got ${String(error)}`);
  }
  expectClose(`${what} (an engine whose reverse mode is forward mode)`, result, expected, TIGHT, TIGHT);
}

export function structuredControlCases(): Case[] {
  const c = (name: string, run: (e: LooseEngine) => void): Case => ({ group: GROUP, name, run: ({ engine }) => run(loose(engine)) });
  return [
    c("forLoop: value, grad, grad∘grad and jvp equal the unrolled JS loop's", (e) => {
      for (const x of [0.3, 1.2]) sameToOrder2(e, "forLoop", forLoopF, forLoopUnrolled, x);
    }),
    c("scan (body closing over w, ys summed): equals the unrolled loop to order 2", (e) => {
      for (const w of [0.8, -0.4]) sameToOrder2(e, "scan", scanF, scanUnrolled, w);
      // the gradient with respect to xs: one entry per step
      const g = e.grad((xs: Tensor) =>
        ir.sum((ir.scan((k: Tensor, x: Tensor) => [ir.mul(k, x), k], ir.scalar(2), xs) as [Tensor, Tensor])[1]),
      );
      // ys = [2, 2·x0, 2·x0·x1]: ∂/∂x0 = 2 + 2·x1, ∂/∂x1 = 2·x0, ∂/∂x2 = 0
      expectClose("grad(sum of scan ys)([3, 5, 7])", g(tensor([3, 5, 7])), [12, 6, 0], TIGHT, TIGHT);
    }),
    c("cond on a traced predicate: both branches, to order 2", (e) => {
      for (const x of [1.5, -0.5]) sameToOrder2(e, "cond", condF, condTaken(x), x);
      expectClose("grad(cond)(2)", e.grad(condF as never)(2), Math.sin(2) + 2 * Math.cos(2), TIGHT, TIGHT);
    }),
    c("switchCase: the index clamped into range, to order 2", (e) => {
      for (const x of [-3.5, -0.5, 0.5, 4.25]) sameToOrder2(e, "switchCase", switchF, switchTaken(x), x);
    }),
    c("forLoop with a pytree carry and the loop index: grad to order 2", (e) => {
      const f = (x: Tensor) => {
        const out = ir.forLoop(
          1,
          4,
          (i: Tensor, k: { a: Tensor; b: Tensor[] }) => ({ a: ir.mul(k.a, ir.astype(i, "float64")), b: [ir.add(k.b[0]!, ir.sin(k.a))] }),
          { a: x, b: [ir.mul(x, x)] },
        ) as { a: Tensor; b: Tensor[] };
        return ir.add(out.a, out.b[0]!);
      };
      const unrolled = (x: Tensor) => {
        let a = x;
        let b = ir.mul(x, x);
        for (let i = 1; i < 4; i++) [a, b] = [ir.mul(a, i), ir.add(b, ir.sin(a))];
        return ir.add(a, b);
      };
      sameToOrder2(e, "forLoop(pytree)", f, unrolled, 0.6);
    }),
    c("a 1000-step forLoop differentiates: c ← 0.99·c + x has ∂c/∂x = (1 − 0.99ⁿ)/0.01", (e) => {
      const f = (x: Tensor) => ir.forLoop(0, 1000, (_i: Tensor, k: Tensor) => ir.add(ir.mul(k, 0.99), x), ir.scalar(0)) as Tensor;
      expectClose("grad(1000-step forLoop)(1)", e.grad(f as never)(1), (1 - 0.99 ** 1000) / 0.01, 1e-9, 1e-9);
    }),
    c("whileLoop: forward mode follows the data-dependent trip count; reverse mode refuses it", (e) => {
      for (const [x, d] of [
        [1.5, 8],
        [3, 4],
        [11, 1],
      ] as const) {
        expectClose(`jvp(doubling until 10, [${x}], [1])`, e.jvp(whileF as never, [x], [1])[1], d, TIGHT, TIGHT);
      }
      expectRefusedOrForward("grad(whileLoop)(1.5)", () => e.grad(whileF as never)(1.5), 8);
      expectRefusedOrForward("vjp(whileLoop, 1.5) pulled back", () => (e.vjp(whileF as never, 1.5)[1](1) as unknown[])[0], 8);
    }),
  ];
}
