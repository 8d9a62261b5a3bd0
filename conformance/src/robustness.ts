/**
 * Cases found by attacking the engines as a careless user would: what custom rules return (one
 * message in every engine), forward mode of a customVjp function (an error, never a guessed
 * rule), Hessians at the special points of the derivative rules (symmetric at orders 2 and 3),
 * `where` and 0·∞, tracers leaked out of a transformation, and options a transformation does
 * not have.
 */
import * as ir from "@chainrule/ir";
import { ChainruleError, type Tensor, tensor } from "@chainrule/ir";
import { loose, type LooseEngine } from "./checkgrads.js";
import type { Case } from "./cases.js";
import { ConformanceError, expectClose, expectError } from "./expect.js";
import { fmt, treeValues } from "./tree.js";

// biome-ignore lint/suspicious/noExplicitAny: the widest function type (the suite calls engines loosely)
type Fn = (...args: any[]) => any;

// ── custom rules: what a rule returns ─────────────────────────────────────────────────────

/** Runs a vjp and its pullback: an engine may check bwd's result in either. */
function pulled(e: LooseEngine, f: Fn, x: unknown, ct: unknown): unknown {
  const [, pullback] = e.vjp(f, x);
  return pullback(ct);
}

function customJvpValidationCase(): Case {
  return {
    group: "custom rules: what a rule returns",
    name: "a customJvp rule returning a tangent of the wrong shape or dtype, or no [primal, tangent] pair: the shared message",
    features: ["customJvp"],
    run: ({ engine }) => {
      const e = loose(engine);
      const rule = (tangent: (x: Tensor, t: Tensor) => unknown) =>
        ir.customJvp(
          function double(x: Tensor) {
            return ir.mul(x, 2);
          },
          ([x], [t]) => [ir.mul(x!, 2), tangent(x!, t!)] as [Tensor, Tensor],
        );
      const x = tensor([1, 2]);
      const prefix = '^customJvp: expected the jvp rule of "double" to return ';
      const bad: [string, Fn, string, RegExp][] = [
        [
          "a tangent of shape [3]",
          rule(() => tensor([1, 2, 3])),
          "SHAPE",
          new RegExp(`${prefix}a tangent of type float64\\[2\\] \\(the primal output's\\), got float64\\[3\\]$`),
        ],
        [
          "a float32 tangent",
          rule((_x, t) => ir.astype(ir.mul(t, 2), "float32")),
          "DTYPE",
          new RegExp(`${prefix}a tangent of type float64\\[2\\] \\(the primal output's\\), got float32\\[2\\]$`),
        ],
        [
          "a number instead of a tangent",
          rule(() => 5),
          "ARGUMENT",
          new RegExp(`${prefix}\\[primal output, tangent output\\] \\(two Tensors\\), got \\[float64\\[2\\], number 5\\]$`),
        ],
        [
          "5 instead of a pair",
          ir.customJvp(
            function double(t: Tensor) {
              return ir.mul(t, 2);
            },
            (() => 5) as never,
          ),
          "ARGUMENT",
          new RegExp(`${prefix}\\[primal output, tangent output\\] \\(two Tensors\\), got number 5$`),
        ],
      ];
      for (const [what, f, code, pattern] of bad) {
        expectError(`jvp of a rule returning ${what}`, () => e.jvp(f, [x], [tensor([1, 0])]), code, pattern);
        expectError(`grad of a rule returning ${what}`, () => e.grad((t: Tensor) => ir.sum(f(t)))(x), code, pattern);
        expectError(`vjp of a rule returning ${what}`, () => pulled(e, f, x, tensor([1, 1])), code, pattern);
      }
    },
  };
}

function customVjpValidationCase(): Case {
  return {
    group: "custom rules: what a rule returns",
    name: "a customVjp fwd or bwd returning the wrong shape, dtype, count or structure: the shared message (grad, vjp); null, numbers pass",
    features: ["customVjp"],
    run: ({ engine }) => {
      const e = loose(engine);
      const withBwd = (bwd: (g: Tensor) => unknown) =>
        ir.customVjp(
          function scaled(x: Tensor) {
            return ir.mul(x, 3);
          },
          (x: Tensor) => [ir.mul(x, 3), null] as [Tensor, null],
          (_r, g) => bwd(g) as Tensor[],
        );
      const x = tensor([1, 2]);
      const bwdOf = '^customVjp: expected bwd of "scaled" to return ';
      const cotangent = `${bwdOf}cotangent 0 of type float64\\[2\\] \\(argument 0's\\) or null, got `;
      const bad: [string, Fn, string, RegExp][] = [
        ["a cotangent of shape [3]", withBwd(() => [tensor([1, 2, 3])]), "SHAPE", new RegExp(`${cotangent}float64\\[3\\]$`)],
        ["a float32 cotangent", withBwd((g) => [ir.astype(g, "float32")]), "DTYPE", new RegExp(`${cotangent}float32\\[2\\]$`)],
        ["a string", withBwd(() => ["x"]), "ARGUMENT", new RegExp(`${cotangent}string "x"$`)],
        [
          "two cotangents for one argument",
          withBwd((g) => [g, g]),
          "ARGUMENT",
          new RegExp(`${bwdOf}an array of 1 cotangent \\(one per argument\\), got an array of length 2$`),
        ],
        [
          "a bare Tensor",
          withBwd((g) => g),
          "ARGUMENT",
          new RegExp(`${bwdOf}an array of 1 cotangent \\(one per argument\\), got .*f64\\[2\\]$`),
        ],
      ];
      for (const [what, f, code, pattern] of bad) {
        expectError(`grad of a bwd returning ${what}`, () => e.grad((t: Tensor) => ir.sum(f(t)))(x), code, pattern);
        expectError(`vjp of a bwd returning ${what}`, () => pulled(e, f, x, tensor([1, 1])), code, pattern);
      }
      const badFwd = ir.customVjp(
        function scaled(t: Tensor) {
          return ir.mul(t, 3);
        },
        (() => 3) as never,
        (_r, g) => [g],
      );
      const fwdPattern = /^customVjp: expected fwd of "scaled" to return \[output Tensor, residuals\], got number 3$/;
      expectError("grad of a fwd returning 3", () => e.grad((t: Tensor) => ir.sum(badFwd(t)))(x), "ARGUMENT", fwdPattern);
      // null is a zero cotangent, a number one for a rank-0 argument
      const two = ir.customVjp(
        (a: Tensor, b: Tensor) => ir.mul(a, b),
        (a: Tensor, b: Tensor) => [ir.mul(a, b), null] as [Tensor, null],
        () => [null, 4] as never,
      );
      expectClose("grad(customVjp with bwd [null, 4], [0, 1])(2, 5)", e.grad(two, [0, 1])(2, 5), [0, 4], 0, 0);
    },
  };
}

// ── forward mode of a customVjp function ──────────────────────────────────────────────────

const REFUSED = /^customVjp: can't apply forward-mode autodiff \(jvp\) to the customVjp function "clipGradient": .*customJvp/;

function isRefusal(error: unknown): boolean {
  return error instanceof ChainruleError && error.code === "ARGUMENT" && REFUSED.test(error.message);
}

/** `call` must give `expected`, or refuse with the forward-mode error (an engine whose transformation is forward mode). */
function valueOrRefusal(what: string, call: () => unknown, expected: unknown): void {
  let result: unknown;
  try {
    result = call();
  } catch (error) {
    if (isRefusal(error)) return;
    throw error;
  }
  expectClose(`${what} (or the forward-mode error)`, result, expected, 1e-12, 1e-14);
}

function forwardModeCase(): Case {
  return {
    group: "custom rules: forward mode of customVjp",
    name: "forward mode of a customVjp function raises the error naming it (jvp, grad of jvp); reverse mode uses bwd (0.1, never 5)",
    run: ({ engine }) => {
      const e = loose(engine);
      // gradient clipping: bwd is not linear in the cotangent, so no jvp can be read off it
      const clipGradient = ir.customVjp(
        function clipGradient(x: Tensor) {
          return x;
        },
        (x: Tensor) => [x, null] as [Tensor, null],
        (_r, g) => [ir.clip(g, -0.1, 0.1)],
      );
      const f = (x: Tensor) => ir.mul(clipGradient(x), 5);
      expectError("jvp(x ↦ 5·clipGradient(x), [1], [1])", () => e.jvp(f, [1], [1]), "ARGUMENT", REFUSED);
      expectError("jvp with a tensor", () => e.jvp(f, [tensor([1, 2])], [tensor([1, 1])]), "ARGUMENT", REFUSED);
      expectError("grad(x ↦ jvp(f, [x], [1]))", () => e.grad((x: Tensor) => e.jvp(f, [x], [1])[1] as Tensor)(1), "ARGUMENT", REFUSED);
      valueOrRefusal("grad(x ↦ 5·clipGradient(x))(1)", () => e.grad(f)(1), 0.1);
      valueOrRefusal("valueAndGrad(x ↦ 5·clipGradient(x))(1)", () => e.valueAndGrad(f)(1), [5, 0.1]);
      valueOrRefusal("vjp pullback of 5·clipGradient at 1", () => pulled(e, f, 1, 1), [0.1]);
      valueOrRefusal("jacobian(x ↦ 5·clipGradient(x))([1, 2])", () => e.jacobian(f)(tensor([1, 2])), [0.1, 0, 0, 0.1]);
      // a zero tangent: the function may just run (an engine may also count an explicit zero as a tangent)
      valueOrRefusal(
        "jvp(x ↦ x + clipGradient(y)) along x",
        () => e.jvp((x: Tensor, y: Tensor) => ir.add(x, clipGradient(y)), [1, 2], [1, 0]),
        [3, 1],
      );
    },
  };
}

function forwardModeSecondOrderCase(): Case {
  return {
    group: "custom rules: forward mode of customVjp",
    name: "second order through a nonlinear bwd: grad of grad, hessian, hvp, jvp of grad give bwd's derivative, or the forward-mode error",
    run: ({ engine }) => {
      const e = loose(engine);
      // h(x) = x² with bwd clip(g)·2x: the gradient of 5·h is clip(5)·2x = 0.2x, its derivative 0.2
      const h = ir.customVjp(
        function clipGradient(x: Tensor) {
          return ir.mul(x, x);
        },
        (x: Tensor) => [ir.mul(x, x), x] as [Tensor, Tensor],
        (x, g) => [ir.mul(ir.clip(g, -0.1, 0.1), ir.mul(x, 2))],
      );
      const f = (x: Tensor) => ir.mul(h(x), 5);
      valueOrRefusal("grad(grad(5·h))(1.5)", () => e.grad(e.grad(f))(1.5), 0.2);
      valueOrRefusal("hessian(5·h)(1.5)", () => e.hessian(f)(1.5), 0.2);
      valueOrRefusal("hvp(5·h, [1.5], [2])", () => e.hvp(f, [1.5], [2]), [0.4]);
      valueOrRefusal("jvp(grad(5·h), [1.5], [1])", () => e.jvp(e.grad(f), [1.5], [1])[1], 0.2);
      valueOrRefusal("hessian(sum∘5·h)([1, 2])", () => e.hessian((v: Tensor) => ir.sum(f(v)))(tensor([1, 2])), [0.2, 0, 0, 0.2]);
      expectError("jvp(5·h) names the function", () => e.jvp(f, [1.5], [1]), "ARGUMENT", REFUSED);
      const anonymous = ir.customVjp(
        (x: Tensor) => x,
        (x: Tensor) => [x, null] as [Tensor, null],
        (_r, g) => [g],
      );
      expectError(
        "jvp of an unnamed customVjp function",
        () => e.jvp(anonymous, [1], [1]),
        "ARGUMENT",
        /the customVjp function "anonymous"/,
      );
    },
  };
}

// ── Hessian symmetry at special points ────────────────────────────────────────────────────

type F2 = (a: Tensor, b: Tensor) => Tensor;

/** A function of two scalars at a point where one of its rules has a special case. */
interface SpecialPoint {
  readonly name: string;
  readonly f: F2;
  readonly at: readonly [number, number];
  /** The documented values where the function is not smooth; undefined: smooth, checked against finite differences. */
  readonly hessian?: readonly [readonly [number, number], readonly [number, number]];
  /** Third derivatives by how many times b is differentiated: [∂aaa, ∂aab, ∂abb, ∂bbb]. */
  readonly third?: readonly [number, number, number, number];
}

const square = (t: Tensor) => ir.mul(t, t);

export const SPECIAL_POINTS: readonly SpecialPoint[] = [
  // ∂²(aᵇ)/∂a∂b = aᵇ⁻¹(1 + b log a) = 1/a at b = 0
  { name: "pow(a, b) at (4, 0)", f: ir.pow, at: [4, 0] },
  { name: "pow(a, b) at (0.5, 0)", f: ir.pow, at: [0.5, 0] },
  { name: "pow(a, b) at (2, 1)", f: ir.pow, at: [2, 1] },
  { name: "pow(a, b) at (3, -1)", f: ir.pow, at: [3, -1] },
  // at a = 0 every derivative along b is 0 (the exponent derivative aᵇ·log a is 0 there, as JAX)
  {
    name: "pow(a, b) at (0, 0)",
    f: ir.pow,
    at: [0, 0],
    hessian: [
      [0, 0],
      [0, 0],
    ],
    third: [0, 0, 0, 0],
  },
  {
    name: "pow(a, b) at (0, 1)",
    f: ir.pow,
    at: [0, 1],
    hessian: [
      [0, 0],
      [0, 0],
    ],
    third: [0, 0, 0, 0],
  },
  {
    name: "pow(a, b) at (0, 2)",
    f: ir.pow,
    at: [0, 2],
    hessian: [
      [2, 0],
      [0, 0],
    ],
    third: [0, 0, 0, 0],
  },
  {
    name: "pow(a, b) at (0, 3)",
    f: ir.pow,
    at: [0, 3],
    hessian: [
      [0, 0],
      [0, 0],
    ],
    third: [6, 0, 0, 0],
  },
  { name: "a / b at (0, 2)", f: ir.div, at: [0, 2] },
  { name: "log(a)·b² at (1, 0)", f: (a, b) => ir.mul(ir.log(a), square(b)), at: [1, 0] },
  { name: "sqrt(a)·b at (0.25, 0)", f: (a, b) => ir.mul(ir.sqrt(a), b), at: [0.25, 0] },
  // ties: ½ to each side, so ∂²(max²) = 2·½·½ everywhere in the block
  {
    name: "maximum(a, b)² at the tie (1, 1)",
    f: (a, b) => square(ir.maximum(a, b)),
    at: [1, 1],
    hessian: [
      [0.5, 0.5],
      [0.5, 0.5],
    ],
    third: [0, 0, 0, 0],
  },
  {
    name: "minimum(a, b)² at the tie (1, 1)",
    f: (a, b) => square(ir.minimum(a, b)),
    at: [1, 1],
    hessian: [
      [0.5, 0.5],
      [0.5, 0.5],
    ],
    third: [0, 0, 0, 0],
  },
  {
    name: "max([a, b])² at the tie (2, 2)",
    f: (a, b) => square(ir.max(ir.stack([a, b]))),
    at: [2, 2],
    hessian: [
      [0.5, 0.5],
      [0.5, 0.5],
    ],
    third: [0, 0, 0, 0],
  },
  // sign(0) = 0: abs and relu have no derivative at 0, at any order
  {
    name: "abs(a)·b² at (0, 2)",
    f: (a, b) => ir.mul(ir.abs(a), square(b)),
    at: [0, 2],
    hessian: [
      [0, 0],
      [0, 0],
    ],
    third: [0, 0, 0, 0],
  },
  {
    name: "relu(a·b)·b at (0, 2)",
    f: (a, b) => ir.mul(ir.relu(ir.mul(a, b)), b),
    at: [0, 2],
    hessian: [
      [0, 0],
      [0, 0],
    ],
    third: [0, 0, 0, 0],
  },
  // where follows the selected branch (a²b at a = 0)
  {
    name: "where(a > 0, a·b, a²·b) at (0, 2)",
    f: (a, b) => ir.where(ir.greater(a, 0), ir.mul(a, b), ir.mul(square(a), b)),
    at: [0, 2],
    hessian: [
      [4, 0],
      [0, 0],
    ],
    third: [0, 2, 0, 0],
  },
  // clip passes the gradient at its bounds (PyTorch's clamp)
  {
    name: "clip(a, -1, 1)·b² at the bound (1, 2)",
    f: (a, b) => ir.mul(ir.clip(a, -1, 1), square(b)),
    at: [1, 2],
    hessian: [
      [0, 4],
      [4, 2],
    ],
    third: [0, 0, 2, 0],
  },
];

const nestedGrad = (e: LooseEngine, f: F2, word: readonly number[]): Fn => word.reduce<Fn>((g, w) => e.grad(g, w), f);

function scalarOf(what: string, v: unknown): number {
  const data = treeValues(v);
  if (data.length !== 1) throw new ConformanceError(`${what}: expected a scalar, got ${data.length} values`);
  return data[0]!;
}

/** Five-point central difference of `g` (a vector function of the point) along axis `j`. */
function centralDifference(g: (a: number, b: number) => Float64Array, at: readonly [number, number], j: number, eps: number): Float64Array {
  const step = (t: number) => (j === 0 ? g(at[0] + t, at[1]) : g(at[0], at[1] + t));
  const [m2, m1, p1, p2] = [step(-2 * eps), step(-eps), step(eps), step(2 * eps)];
  return m1.map((_, i) => (m2[i]! - 8 * m1[i]! + 8 * p1[i]! - p2[i]!) / (12 * eps));
}

/** The point as one vector argument: hessian and jacobian see the whole 2×2 block. */
function onVector(f: F2): (v: Tensor) => Tensor {
  const part = (v: Tensor, i: number) => ir.reshape(ir.slice(v, [i], [i + 1]), []);
  return (v) => f(part(v, 0), part(v, 1));
}

function expectSameEntries(what: string, got: readonly number[], want: readonly number[], rtol: number, atol: number): void {
  expectClose(what, Float64Array.from(got), Float64Array.from(want), rtol, atol);
}

function hessianCase(p: SpecialPoint): Case {
  return {
    group: "Hessian symmetry at special points",
    name: `order 2: ${p.name} — symmetric; grad∘grad in both orders = hessian = ${p.hessian ? "documented values" : "FD of grad"}`,
    features: ["hessian"],
    run: ({ engine }) => {
      const e = loose(engine);
      const [a, b] = p.at;
      const nested = [0, 1].map((i) => [0, 1].map((j) => scalarOf(`grad(grad(f, ${i}), ${j})`, nestedGrad(e, p.f, [i, j])(a, b))));
      const flatNested = nested.flat();
      expectSameEntries(`${p.name}: ∂²f/∂a∂b vs ∂²f/∂b∂a (grad of grad in both orders)`, [nested[0]![1]!], [nested[1]![0]!], 1e-12, 1e-14);
      const block = Array.from(treeValues(e.hessian(onVector(p.f))(tensor([a, b]))));
      expectSameEntries(`${p.name}: hessian is symmetric`, block, [block[0]!, block[2]!, block[1]!, block[3]!], 1e-12, 1e-14);
      expectSameEntries(`${p.name}: hessian vs grad of grad`, block, flatNested, 1e-12, 1e-14);
      if (p.hessian !== undefined) {
        expectSameEntries(`${p.name}: hessian vs the documented values`, block, p.hessian.flat(), 1e-12, 1e-14);
      } else {
        const gradient = (x: number, y: number) => treeValues(e.grad(p.f, [0, 1])(x, y));
        const fd = [0, 1].map((j) => centralDifference(gradient, p.at, j, 1e-3));
        // fd[j][i] = ∂g_i/∂x_j
        expectSameEntries(
          `${p.name}: hessian vs finite differences of grad`,
          block,
          [fd[0]![0]!, fd[1]![0]!, fd[0]![1]!, fd[1]![1]!],
          1e-7,
          1e-8,
        );
      }
    },
  };
}

const WORDS3: readonly (readonly number[])[] = Array.from({ length: 8 }, (_, k) => [(k >> 2) & 1, (k >> 1) & 1, k & 1]);

function thirdOrderCase(p: SpecialPoint): Case {
  return {
    group: "Hessian symmetry at special points",
    name: `order 3: ${p.name} — grad³ in every order = jacobian of hessian = ${p.third ? "documented values" : "FD of hessian"}`,
    features: ["hessian", "order3"],
    run: ({ engine }) => {
      const e = loose(engine);
      const [a, b] = p.at;
      // by the number of b's: every word with the same count must agree
      const byCount: number[][] = [[], [], [], []];
      for (const word of WORDS3) {
        const value = scalarOf(`grad³ along ${word.join("")}`, nestedGrad(e, p.f, word)(a, b));
        byCount[word.reduce((n, w) => n + w, 0)]!.push(value);
      }
      byCount.forEach((values, count) => {
        const label = `${"a".repeat(3 - count)}${"b".repeat(count)}`;
        expectSameEntries(
          `${p.name}: ∂³f/∂${label} in every order of differentiation`,
          values,
          values.map(() => values[0]!),
          1e-12,
          1e-14,
        );
      });
      const third = byCount.map((values) => values[0]!);
      // t[j][k][i] = ∂H_jk/∂x_i
      const t = Array.from(treeValues(e.jacobian((v: Tensor) => e.hessian(onVector(p.f))(v))(tensor([a, b]))));
      const expectedT = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => third[((k >> 2) & 1) + ((k >> 1) & 1) + (k & 1)]!);
      expectSameEntries(`${p.name}: jacobian of hessian vs grad³ (symmetric under index permutation)`, t, expectedT, 1e-12, 1e-14);
      if (p.third !== undefined) {
        expectSameEntries(`${p.name}: third derivatives vs the documented values [aaa, aab, abb, bbb]`, third, p.third, 1e-12, 1e-14);
      } else {
        const hessian = (x: number, y: number) => treeValues(e.hessian(onVector(p.f))(tensor([x, y])));
        // ∂H_ab/∂a = f_aab and ∂H_bb/∂a = f_abb, ∂H_aa/∂a = f_aaa, ∂H_bb/∂b = f_bbb
        const alongA = centralDifference(hessian, p.at, 0, 1e-3);
        const alongB = centralDifference(hessian, p.at, 1, 1e-3);
        expectSameEntries(
          `${p.name}: third derivatives vs finite differences of hessian`,
          third,
          [alongA[0]!, alongA[1]!, alongA[3]!, alongB[3]!],
          1e-6,
          1e-7,
        );
      }
    },
  };
}

// ── where and 0·∞ ─────────────────────────────────────────────────────────────────────────

const greaterThanZero = (x: Tensor) => ir.greater(x, 0);

/** The trap: the unselected branch exp(1000x) overflows at x = 1, and its derivative with it. */
const whereTrap = (x: Tensor) => ir.sum(ir.where(greaterThanZero(x), x, ir.exp(ir.mul(x, 1000))));

/** The idiom: the unselected branch runs on a safe input (0), so nothing overflows. */
const doubleWhere = (x: Tensor) => ir.sum(ir.where(greaterThanZero(x), x, ir.exp(ir.mul(ir.where(greaterThanZero(x), 0, x), 1000))));

function whereCases(): Case[] {
  return [
    {
      group: "where and 0·∞",
      name: "the double-where idiom: finite derivatives where the unselected branch overflows (grad, vjp, jvp, jacobian, hessian)",
      run: ({ engine }) => {
        const e = loose(engine);
        const x = tensor([1, -0.002]);
        const g = [1, 1000 * Math.exp(-2)];
        expectClose("grad(double where)([1, -0.002])", e.grad(doubleWhere)(x), g, 1e-12, 1e-14);
        expectClose("valueAndGrad(double where)", e.valueAndGrad(doubleWhere)(x), [1 + Math.exp(-2), g], 1e-12, 1e-14);
        expectClose("vjp(double where)", pulled(e, doubleWhere, x, 1), [g], 1e-12, 1e-14);
        expectClose("jvp(double where)", e.jvp(doubleWhere, [x], [tensor([1, 1])])[1], g[0]! + g[1]!, 1e-12, 1e-14);
        expectClose("grad(double where)(1)", e.grad(doubleWhere)(1), 1, 0, 0);
        expectClose("jvp(double where, [1], [1])", e.jvp(doubleWhere, [1], [1])[1], 1, 0, 0);
        expectClose("jacobian(double where)(1)", e.jacobian(doubleWhere)(1), 1, 0, 0);
        expectClose("hessian(double where)(1)", e.hessian(doubleWhere)(1), 0, 0, 0);
      },
    },
    {
      group: "where and 0·∞",
      name: "the where trap (unselected exp(1000x) at x = 1): 1 in every mode, since a zero (co)tangent times ∞ is 0 (mulNoNan)",
      run: ({ engine }) => {
        const e = loose(engine);
        const one = (what: string, v: unknown) => {
          const got = scalarOf(what, v);
          if (got !== 1) throw new ConformanceError(`${what}: expected 1 (the selected branch; 0 · ∞ = 0), got ${fmt(got)}`);
        };
        one("grad(where trap)(1)", e.grad(whereTrap)(1));
        const [value, g] = e.valueAndGrad(whereTrap)(1) as [unknown, unknown];
        expectClose("valueAndGrad(where trap)(1)'s value", value, 1, 0, 0);
        one("valueAndGrad(where trap)(1)'s gradient", g);
        one("vjp(where trap) pulled back at 1", pulled(e, whereTrap, 1, 1));
        one("jvp(where trap, [1], [1])", e.jvp(whereTrap, [1], [1])[1]);
      },
    },
  ];
}

// ── leaked tracers and options ─────────────────────────────────────────────────────────────

const ESCAPED = /expected values of active transformations, got .* tracer .*has already returned/;

function leakedTracerCase(): Case {
  return {
    group: "errors",
    name: "a tracer leaked out of grad or jvp raises the escaped-tracer error when a transformation gets it as an argument or f returns it",
    features: ["errors"],
    run: ({ engine }) => {
      const e = loose(engine);
      const leaked: [string, Tensor][] = [];
      e.grad((x: Tensor) => {
        leaked.push(["grad", x]);
        return ir.mul(x, x);
      })(1);
      e.jvp(
        (x: Tensor) => {
          leaked.push(["jvp", x]);
          return ir.mul(x, x);
        },
        [1],
        [1],
      );
      const identity = (x: Tensor) => x;
      for (const [from, t] of leaked) {
        const calls: [string, () => unknown][] = [
          ["grad(x ↦ x)(leaked)", () => e.grad(identity)(t)],
          ["valueAndGrad(x ↦ x)(leaked)", () => e.valueAndGrad(identity)(t)],
          ["jvp(x ↦ x, [leaked], [1])", () => e.jvp(identity, [t], [1])],
          ["jvp(x ↦ x, [1], [leaked])", () => e.jvp(identity, [1], [t])],
          ["vjp(x ↦ x, leaked)", () => pulled(e, identity, t, 1)],
          ["jacobian(x ↦ x)(leaked)", () => e.jacobian(identity)(t)],
          ["hessian(x ↦ x·x)(leaked)", () => e.hessian((x: Tensor) => ir.mul(x, x))(t)],
          ["grad(x ↦ leaked)(1) (returned)", () => e.grad(() => t)(1)],
          ["jvp(x ↦ leaked, [1], [1]) (returned)", () => e.jvp(() => t, [1], [1])],
          ["vjp(x ↦ leaked, 1) (returned)", () => pulled(e, () => t, 1, 1)],
        ];
        for (const [what, call] of calls) expectError(`${what} with a tracer leaked out of ${from}`, call, "ESCAPED_TRACER", ESCAPED);
      }
    },
  };
}

function optionCase(): Case {
  return {
    group: "errors",
    name: "an option a transformation does not have is an error, never ignored (grad(f, 0, { holomorphic: true }), hessian's hasAux)",
    features: ["errors"],
    run: ({ engine }) => {
      const e = loose(engine) as unknown as Record<string, Fn>;
      const f = (x: Tensor) => ir.mul(x, x);
      for (const op of ["grad", "valueAndGrad", "jacobian", "hessian"]) {
        expectError(
          `${op}(f, 0, { holomorphic: true })`,
          () => e[op]!(f, 0, { holomorphic: true })(3),
          "ARGUMENT",
          new RegExp(`^${op}: .*holomorphic`),
        );
      }
      // hasAux exists on grad, valueAndGrad, jacobian and vjp only
      expectError("hessian(f, 0, { hasAux: true })", () => e["hessian"]!(f, 0, { hasAux: true })(3), "ARGUMENT", /^hessian: .*hasAux/);
    },
  };
}

export function robustnessCases(): Case[] {
  return [
    customJvpValidationCase(),
    customVjpValidationCase(),
    forwardModeCase(),
    forwardModeSecondOrderCase(),
    ...SPECIAL_POINTS.map(hessianCase),
    ...SPECIAL_POINTS.map(thirdOrderCase),
    ...whereCases(),
    leakedTracerCase(),
    optionCase(),
  ];
}
