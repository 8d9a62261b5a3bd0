/**
 * Cases beyond the per-op table: nesting, numeric conventions, differentiation control, pytrees
 * and JS numbers, control flow and errors.
 */
import { mathCases } from "./optable/math.js";
import * as ir from "@chainrule/ir";
import { ChainruleError, Tensor, tensor, type Engine } from "@chainrule/ir";
import { checkGrads, finiteDifference, loose, type LooseEngine } from "./checkgrads.js";
import type { Case, Context, ControlFlow } from "./cases.js";
import { ConformanceError, expectClose, expectError } from "./expect.js";
import { dotAll, flat, values } from "./tree.js";
import { reductionCases } from "./optable/reductions.js";
import { indexConventionCases } from "./optable/indexing.js";
// structured control flow (issue 19, ctrl)
import { structuredControlCases } from "./optable/control.js";

type Fn = (x: Tensor) => Tensor;

function num(what: string, v: unknown): number {
  if (typeof v !== "number")
    throw new ConformanceError(`${what}: expected a JS number (a number in gives a number out), got ${describeResult(v)}`);
  return v;
}

function describeResult(v: unknown): string {
  if (v instanceof Tensor) return v.toString();
  if (Array.isArray(v)) return `[${v.map(describeResult).join(", ")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}: ${describeResult(x)}`)
      .join(", ")}}`;
  return String(v);
}

function close(what: string, got: unknown, expected: number, rtol = 1e-10, atol = 1e-12): void {
  expectClose(what, num(what, got), expected, rtol, atol);
}

/** grad applied `n` times to a scalar function of a JS number. */
function gradN(e: LooseEngine, f: Fn, n: number): (x: number) => unknown {
  let g: (x: never) => unknown = f as never;
  for (let i = 0; i < n; i++) g = e.grad(g) as never;
  return g as (x: number) => unknown;
}

// ── nesting ────────────────────────────────────────────────────────────────────────────────

interface ThirdDerivative {
  readonly name: string;
  readonly f: Fn;
  readonly d3: (x: number) => number;
  readonly at: number;
}

const THIRD: ThirdDerivative[] = [
  { name: "sin", f: ir.sin, d3: (x) => -Math.cos(x), at: 0.7 },
  { name: "cos", f: ir.cos, d3: (x) => Math.sin(x), at: 0.7 },
  { name: "exp", f: ir.exp, d3: (x) => Math.exp(x), at: 0.4 },
  {
    name: "tanh",
    f: ir.tanh,
    d3: (x) => {
      const t = Math.tanh(x);
      return -2 * (1 - t * t) * (1 - 3 * t * t);
    },
    at: 0.6,
  },
  { name: "log", f: ir.log, d3: (x) => 2 / x ** 3, at: 1.3 },
  { name: "sqrt", f: ir.sqrt, d3: (x) => (3 / 8) * x ** -2.5, at: 1.7 },
  { name: "pow(x, 3.5)", f: (x) => ir.pow(x, 3.5), d3: (x) => 3.5 * 2.5 * 1.5 * x ** 0.5, at: 1.2 },
  { name: "pow(2, x)", f: (x) => ir.pow(2, x), d3: (x) => Math.LN2 ** 3 * 2 ** x, at: 0.9 },
  { name: "reciprocal", f: ir.reciprocal, d3: (x) => -6 / x ** 4, at: 1.5 },
  { name: "x⁴ (mul)", f: (x) => ir.mul(ir.mul(x, x), ir.mul(x, x)), d3: (x) => 24 * x, at: 0.8 },
  { name: "log1p", f: ir.log1p, d3: (x) => 2 / (1 + x) ** 3, at: 0.5 },
  { name: "expm1", f: ir.expm1, d3: (x) => Math.exp(x), at: 0.3 },
  {
    name: "sigmoid",
    f: ir.sigmoid,
    d3: (x) => {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 - s) * (1 - 6 * s + 6 * s * s);
    },
    at: 0.4,
  },
];

function nestingCases(): Case[] {
  const cases: Case[] = [];
  for (const t of THIRD) {
    cases.push({
      group: "nesting",
      name: `grad(grad(grad(${t.name}))) = closed form at ${t.at}`,
      features: ["order3"],
      run: ({ engine }) => close(`grad³(${t.name})(${t.at})`, gradN(loose(engine), t.f, 3)(t.at), t.d3(t.at), 1e-9, 1e-12),
    });
  }
  cases.push({
    group: "nesting",
    name: "third derivatives by every mix of jvp and grad (fwd-over-rev-over-rev, rev-over-fwd, fwd³) agree with the closed form",
    features: ["order3"],
    run: ({ engine }) => {
      const e = loose(engine);
      for (const t of THIRD.slice(0, 5)) {
        const x = t.at;
        const want = t.d3(x);
        const g2 = gradN(e, t.f, 2);
        close(`jvp(grad(grad(${t.name})))`, e.jvp(g2, [x], [1])[1], want, 1e-9, 1e-12);
        const d1 = (y: Tensor) => e.jvp(t.f, [y], [1])[1] as Tensor;
        close(`grad(grad(jvp(${t.name})))`, gradN(e, d1, 2)(x), want, 1e-9, 1e-12);
        const d2 = (y: Tensor) => e.jvp(d1, [y], [1])[1];
        close(`jvp(jvp(jvp(${t.name})))`, e.jvp(d2, [x], [1])[1], want, 1e-9, 1e-12);
        const gj = (y: Tensor) => e.grad(d1)(y);
        close(`jvp(grad(jvp(${t.name})))`, e.jvp(gj, [x], [1])[1], want, 1e-9, 1e-12);
      }
    },
  });
  cases.push({
    group: "nesting",
    name: "perturbation confusion: d/dx [x · (d/dy (x + y))(1)] at x = 1 is 1 (grad, jvp, and mixed)",
    run: ({ engine }) => {
      const e = loose(engine);
      const viaGrad = (x: Tensor) => ir.mul(x, e.grad((y: Tensor) => ir.add(x, y))(1));
      close("grad(x ↦ x·grad(y ↦ x + y)(1))(1)", e.grad(viaGrad)(1), 1);
      const viaJvp = (x: Tensor) => ir.mul(x, e.jvp((y: Tensor) => ir.add(x, y), [1], [1])[1] as number);
      close("jvp(x ↦ x·jvp(y ↦ x + y, [1], [1]))", e.jvp(viaJvp, [1], [1])[1], 1);
      close("grad(x ↦ x·jvp(y ↦ x + y))(1)", e.grad(viaJvp)(1), 1);
      close("jvp(x ↦ x·grad(y ↦ x + y)(1))", e.jvp(viaGrad, [1], [1])[1], 1);
    },
  });
  cases.push({
    group: "nesting",
    name: "perturbation confusion (Siskind–Pearlmutter): d/dx [x · (d/dy (x·y))(2)] at x = 1 is 2",
    run: ({ engine }) => {
      const e = loose(engine);
      const f = (x: Tensor) => ir.mul(x, e.grad((y: Tensor) => ir.mul(x, y))(2));
      close("grad(x ↦ x·grad(y ↦ x·y)(2))(1)", e.grad(f)(1), 2);
      const g = (x: Tensor) => ir.mul(x, e.jvp((y: Tensor) => ir.mul(x, y), [2], [1])[1] as Tensor);
      close("jvp(x ↦ x·jvp(y ↦ x·y))", e.jvp(g, [1], [1])[1], 2);
    },
  });
  cases.push({
    group: "nesting",
    name: "grad of a function that calls grad: d/dx [d/dy sin(x·y)]|y=x = cos(x²) − 2x² sin(x²)",
    run: ({ engine }) => {
      const e = loose(engine);
      const inner = (x: Tensor) => e.grad((y: Tensor) => ir.sin(ir.mul(x, y)))(x);
      const x = 0.7;
      close("grad(x ↦ grad(y ↦ sin(xy))(x))(0.7)", e.grad(inner)(x), Math.cos(x * x) - 2 * x * x * Math.sin(x * x));
      const v = tensor([0.3, -0.5, 0.8]);
      const innerV = (w: Tensor) => ir.sum(ir.mul(e.grad((u: Tensor) => ir.sum(ir.sin(ir.mul(w, u))))(w), w));
      checkGrads(engine, innerV, [v], { order: 1 });
    },
  });
  cases.push({
    group: "nesting",
    name: "hessian of a vector function through a closed-over outer value, and hvp against hessian",
    features: ["hessian"],
    run: ({ engine }) => {
      const e = loose(engine);
      const x = tensor([0.3, -0.4, 0.9]);
      const f = (v: Tensor) => ir.sum(ir.mul(ir.tanh(v), ir.mul(v, v)));
      const H = e.hessian(f)(x);
      const v = tensor([1, 0.5, -2]);
      const hv = e.hvp(f, [x], [v]) as Tensor[];
      const h = values(H);
      const want = [0, 1, 2].map((r) => h[r * 3]! * 1 + h[r * 3 + 1]! * 0.5 + h[r * 3 + 2]! * -2);
      expectClose("hvp vs hessian·v", hv[0], want, 1e-9, 1e-12);
      // diagonal closed form: d²/dv² [tanh(v) v²] = 2 tanh + 4v sech² − 2v² tanh sech²
      const diag = values(x).map((a) => {
        const t = Math.tanh(a);
        const s = 1 - t * t;
        return 2 * t + 4 * a * s - 2 * a * a * t * s;
      });
      expectClose("hessian diagonal vs closed form", [h[0], h[4], h[8]], Array.from(diag), 1e-9, 1e-12);
      expectClose("hessian off-diagonal is zero", [h[1], h[2], h[3], h[5], h[6], h[7]], [0, 0, 0, 0, 0, 0], 0, 1e-12);
    },
  });
  return cases;
}

// ── conventions (docs/conventions.md) ──────────────────────────────────────────────────────

function conventionCases(): Case[] {
  const c = (name: string, run: (e: LooseEngine, ctx: Context) => void): Case => ({
    group: "conventions",
    name,
    features: ["conventions"],
    run: (ctx) => run(loose(ctx.engine), ctx),
  });
  return [
    c("relu'(0) = 0 (grad, jvp, vector)", (e) => {
      close("grad(relu)(0)", e.grad(ir.relu)(0), 0);
      close("jvp(relu, [0], [1])", e.jvp(ir.relu, [0], [1])[1], 0);
      expectClose("grad(sum∘relu)([-1, 0, 2])", e.grad((x: Tensor) => ir.sum(ir.relu(x)))(tensor([-1, 0, 2])), [0, 0, 1], 0, 0);
    }),
    c("abs'(0) = 0 (sign(0) = 0), abs'(±x) = ±1", (e) => {
      close("grad(abs)(0)", e.grad(ir.abs)(0), 0);
      close("jvp(abs, [0], [1])", e.jvp(ir.abs, [0], [1])[1], 0);
      expectClose("grad(sum∘abs)([-2, 0, 3])", e.grad((x: Tensor) => ir.sum(ir.abs(x)))(tensor([-2, 0, 3])), [-1, 0, 1], 0, 0);
      close("grad(sign)(0)", e.grad(ir.sign)(0), 0);
    }),
    c("maximum/minimum tie: ½ to each side (grad and jvp, broadcast tie)", (e) => {
      expectClose("grad(maximum, [0, 1])(1, 1)", e.grad(ir.maximum, [0, 1])(1, 1), [0.5, 0.5], 0, 0);
      expectClose("grad(minimum, [0, 1])(1, 1)", e.grad(ir.minimum, [0, 1])(1, 1), [0.5, 0.5], 0, 0);
      close("jvp(maximum, [2, 2], [1, 0])", e.jvp(ir.maximum, [2, 2], [1, 0])[1], 0.5);
      close("jvp(minimum, [2, 2], [0, 1])", e.jvp(ir.minimum, [2, 2], [0, 1])[1], 0.5);
      const [gx, gy] = e.grad((x: Tensor, y: Tensor) => ir.sum(ir.maximum(x, y)), [0, 1])(tensor([1, 0, 2]), 1);
      expectClose("grad of sum(maximum([1, 0, 2], 1)) w.r.t. x", gx, [0.5, 0, 1], 0, 0);
      close("… w.r.t. the broadcast scalar 1", gy, 1.5);
    }),
    c("reduce-max/min with k ties: g/k to each tied element (grad and jvp)", (e) => {
      expectClose("grad(max)([1, 3, 3, 2])", e.grad((x: Tensor) => ir.max(x))(tensor([1, 3, 3, 2])), [0, 0.5, 0.5, 0], 0, 1e-15);
      expectClose("grad(max)([5, 5, 5])", e.grad((x: Tensor) => ir.max(x))(tensor([5, 5, 5])), [1 / 3, 1 / 3, 1 / 3], 1e-15, 1e-15);
      expectClose("grad(min)([2, 1, 1])", e.grad((x: Tensor) => ir.min(x))(tensor([2, 1, 1])), [0, 0.5, 0.5], 0, 1e-15);
      const w = tensor([1, 10]);
      expectClose(
        "grad(sum(max(x, axis 1)·[1, 10]))([[1, 1], [0, 2]])",
        e.grad((x: Tensor) => ir.sum(ir.mul(ir.max(x, 1), w)))(
          tensor([
            [1, 1],
            [0, 2],
          ]),
        ),
        [
          [0.5, 0.5],
          [0, 10],
        ],
        0,
        1e-15,
      );
      expectClose(
        "jvp(max, [[3, 3, 1]], [[1, 0, 7]])",
        e.jvp((x: Tensor) => ir.max(x), [tensor([3, 3, 1])], [tensor([1, 0, 7])])[1],
        0.5,
        0,
        1e-15,
      );
    }),
    c("sqrt'(0) = +∞", (e) => {
      close("grad(sqrt)(0)", e.grad(ir.sqrt)(0), Infinity);
      close("jvp(sqrt, [0], [1])", e.jvp(ir.sqrt, [0], [1])[1], Infinity);
    }),
    c("0 · ∞ = 0 in (co)tangent products (mulNoNan): a zero (co)tangent never becomes NaN, in any mode", (e) => {
      // the factor sqrt'(0) = ∞ meets a zero cotangent (reverse) or the tangent ∞ meets the factor 0 (forward)
      close("grad(x ↦ sqrt(x)·0)(0)", e.grad((x: Tensor) => ir.mul(ir.sqrt(x), 0))(0), 0);
      close("jvp(x ↦ sqrt(x)·0, [0], [1])", e.jvp((x: Tensor) => ir.mul(ir.sqrt(x), 0), [0], [1])[1], 0);
      // the unselected branch of a where (its ∞ meets the zero cotangent where sends it)
      const guarded = (x: Tensor) => ir.where(ir.greater(x, 0), ir.sqrt(x), 0);
      close("grad(x ↦ where(x > 0, sqrt(x), 0))(0)", e.grad(guarded)(0), 0);
      close("jvp(x ↦ where(x > 0, sqrt(x), 0), [0], [1])", e.jvp(guarded, [0], [1])[1], 0);
      // directions that share a forward-mode chunk do not contaminate each other
      const f = (x: Tensor, y: Tensor) => ir.add(ir.sqrt(x), y);
      const [gx, gy] = e.grad(f, [0, 1])(0, 2) as [number, number];
      close("grad(√x + y, [0, 1])(0, 2)[0]", gx, Infinity);
      close("grad(√x + y, [0, 1])(0, 2)[1]", gy, 1);
      const jac = e.jacobian((v: Tensor) => ir.add(ir.sqrt(ir.take(v, 0)), ir.take(v, 1)))(tensor([0, 2]));
      expectClose("jacobian(v ↦ √v₀ + v₁)([0, 2])", jac, [Infinity, 1], 0, 0);
      // a nonzero (co)tangent keeps IEEE arithmetic
      const inf = e.grad((x: Tensor) => ir.mul(ir.sqrt(x), 2))(0);
      close("grad(x ↦ 2·sqrt(x))(0)", inf, Infinity);
    }),
    c("pow: ∂²(xʸ)/∂x∂y = 1/x at y = 0 (xʸ⁻¹ guarded only at x = y = 0)", (e) => {
      const H = e.hessian((x: Tensor, y: Tensor) => ir.pow(x, y), [0, 1])(2, 0) as number[][];
      close("hessian(pow)(2, 0)[0][1]", H[0]![1], 0.5);
      close("hessian(pow)(2, 0)[1][0]", H[1]![0], 0.5);
      close("hessian(pow)(2, 0)[0][0]", H[0]![0], 0);
      close("grad(pow, [0, 1])(0, 0)[0]", (e.grad(ir.pow, [0, 1])(0, 0) as number[])[0], 0);
    }),
    c("clip passes the gradient at its boundaries (PyTorch's clamp)", (e) => {
      expectClose(
        "grad(sum∘clip(·, -1, 1))([-1, 1, 2, 0])",
        e.grad((x: Tensor) => ir.sum(ir.clip(x, -1, 1)))(tensor([-1, 1, 2, 0])),
        [1, 1, 0, 1],
        0,
        0,
      );
    }),
    c("float64 by default: gradients of float64 inputs are float64, of JS numbers are numbers", (e) => {
      const g = e.grad((x: Tensor) => ir.sum(ir.mul(x, x)))(tensor([1, 2]));
      if (!(g instanceof Tensor) || g.dtype !== "float64")
        throw new ConformanceError(`grad of a float64 input: expected a float64 Tensor, got ${describeResult(g)}`);
      close("grad(x ↦ x·x)(3)", e.grad((x: Tensor) => ir.mul(x, x))(3), 6);
    }),
    c("NaN-debug mode names the op where a NaN first appears", (e) => {
      const f = (x: Tensor) => ir.log(ir.sub(x, 2));
      let caught: unknown;
      try {
        ir.withDebugNans(() => e.grad(f)(1));
      } catch (error) {
        caught = error;
      }
      if (!(caught instanceof ChainruleError) || caught.code !== "NAN" || !/log/.test(caught.message)) {
        throw new ConformanceError(
          "grad(x ↦ log(x − 2))(1) with config.debugNans: expected a NanError naming log, got " +
            `${caught === undefined ? "no error" : String(caught)}`,
        );
      }
    }),
    // family: indexing (issue 17, ops-index)
    ...indexConventionCases(),
  ].map((k) => (k.name.startsWith("NaN-debug") ? { ...k, features: ["conventions", "debugNans"] as const } : k));
}

// ── differentiation control ────────────────────────────────────────────────────────────────

function controlCases(): Case[] {
  return [
    {
      group: "stopGradient, customJvp, customVjp",
      name: "stopGradient: zero derivative in grad, jvp, jacobian and at second order",
      run: ({ engine }) => {
        const e = loose(engine);
        const f = (x: Tensor) => ir.mul(x, ir.stopGradient(x));
        close("grad(x ↦ x·sg(x))(3)", e.grad(f)(3), 3);
        close("jvp(x ↦ x·sg(x), [3], [1])", e.jvp(f, [3], [1])[1], 3);
        close("grad(grad(x ↦ sg(x)·x³))(2)", gradN(e, (x) => ir.mul(ir.stopGradient(x), ir.mul(x, ir.mul(x, x))), 2)(2), 2 * 6 * 2);
        expectClose(
          "jacobian(sg)([1, 2])",
          e.jacobian((x: Tensor) => ir.stopGradient(x))(tensor([1, 2])),
          [
            [0, 0],
            [0, 0],
          ],
          0,
          0,
        );
        close("grad(sg)(1)", e.grad(ir.stopGradient)(1), 0);
      },
    },
    {
      group: "stopGradient, customJvp, customVjp",
      name: "customJvp: the rule is used (not the function's own derivative) in grad and jvp, with several arguments",
      features: ["customJvp"],
      run: ({ engine }) => {
        const e = loose(engine);
        const f = ir.customJvp(
          (x) => ir.sin(x),
          ([x], [t]) => [ir.sin(x!), ir.mul(t!, 10)],
        );
        close("jvp(customJvp(sin, 10·t))", e.jvp(f, [0.3], [1])[1], 10);
        close("grad(customJvp(sin, 10·t))", e.grad(f)(0.3), 10);
        const g = ir.customJvp(
          (x, y) => ir.mul(x, y),
          ([x, y], [tx, ty]) => [ir.mul(x!, y!), ir.add(ir.mul(tx!, 3), ir.mul(ty!, 5))],
        );
        expectClose("grad(customJvp(x·y, 3tx + 5ty), [0, 1])", e.grad(g, [0, 1])(2, 4), [3, 5], 0, 1e-14);
        const v = ir.customJvp(
          (x) => ir.exp(x),
          ([x], [t]) => {
            const y = ir.exp(x!);
            return [y, ir.mul(t!, ir.mul(y, 2))];
          },
        );
        expectClose(
          "grad(sum∘customJvp(exp, 2y·t)) on a vector",
          e.grad((x: Tensor) => ir.sum(v(x)))(tensor([0, 1])),
          [2, 2 * Math.E],
          1e-14,
          1e-14,
        );
      },
    },
    {
      group: "stopGradient, customJvp, customVjp",
      name: "customJvp: the rule is differentiated for second order (grad of grad)",
      features: ["customJvp"],
      run: ({ engine }) => {
        const e = loose(engine);
        const v = ir.customJvp(
          (x) => ir.exp(x),
          ([x], [t]) => {
            const y = ir.exp(x!);
            return [y, ir.mul(t!, ir.mul(y, 2))];
          },
        );
        close("grad(grad(customJvp(exp, 2y·t)))(0.5)", gradN(e, v, 2)(0.5), 2 * Math.exp(0.5), 1e-12, 1e-14);
      },
    },
    {
      group: "stopGradient, customJvp, customVjp",
      name: "customVjp at second order: fwd and bwd are differentiated as ordinary code (grad of grad, hessian, jvp of grad)",
      features: ["customVjp"],
      run: ({ engine }) => {
        const e = loose(engine);
        const f = ir.customVjp(
          (x) => ir.sin(x),
          (x) => [ir.sin(x), ir.cos(x)] as [Tensor, Tensor],
          (c, g) => [ir.mul(g, c)],
        );
        const want = -Math.sin(0.5);
        close("grad(grad(customVjp(sin, residual cos)))(0.5)", e.grad(e.grad(f))(0.5), want, 1e-12, 1e-14);
        close("jvp(grad(customVjp(sin, residual cos)))", e.jvp(e.grad(f), [0.5], [1])[1], want, 1e-12, 1e-14);
        expectClose(
          "hessian(sum∘customVjp(sin, residual cos))([0.5, 1])",
          e.hessian((x: Tensor) => ir.sum(f(x)))(tensor([0.5, 1])),
          [
            [want, 0],
            [0, -Math.sin(1)],
          ],
          1e-12,
          1e-14,
        );
      },
    },
    {
      group: "stopGradient, customJvp, customVjp",
      name: "customJvp at second order in every mix of modes (the rule is differentiated)",
      features: ["customJvp"],
      run: ({ engine }) => {
        const e = loose(engine);
        const h = ir.customJvp(
          (x) => ir.exp(x),
          ([x], [t]) => {
            const y = ir.exp(x!);
            return [y, ir.mul(t!, ir.mul(y, 2))];
          },
        );
        close("jvp(grad(customJvp(exp, 2y·t)))", e.jvp(e.grad(h), [0.5], [1])[1], 2 * Math.exp(0.5), 1e-12, 1e-14);
        close("grad(jvp(customJvp(exp, 2y·t)))", e.grad((x: Tensor) => e.jvp(h, [x], [1])[1])(0.5), 2 * Math.exp(0.5), 1e-12, 1e-14);
      },
    },
    {
      group: "stopGradient, customJvp, customVjp",
      name: "customVjp: bwd is used in grad and vjp, residuals reach bwd",
      features: ["customVjp"],
      run: ({ engine }) => {
        const e = loose(engine);
        const f = ir.customVjp(
          (x) => ir.sin(x),
          (x) => [ir.sin(x), x] as [Tensor, Tensor],
          (_res, g) => [ir.mul(g, 7)],
        );
        close("grad(customVjp(sin, bwd 7g))", e.grad(f)(0.3), 7);
        const h = ir.customVjp(
          (x, y) => ir.mul(x, y),
          (x, y) => [ir.mul(x, y), [x, y]] as [Tensor, Tensor[]],
          (_r, g) => [ir.mul(g, 2), ir.mul(g, 3)],
        );
        expectClose("grad(customVjp(x·y, bwd [2g, 3g]), [0, 1])", e.grad(h, [0, 1])(5, 6), [2, 3], 0, 1e-14);
        const withRes = ir.customVjp(
          (x) => ir.sin(x),
          (x) => [ir.sin(x), ir.cos(x)] as [Tensor, Tensor],
          (c, g) => [ir.mul(g, c)],
        );
        const x = tensor([0.1, 0.7, -1.2]);
        expectClose(
          "grad(sum∘customVjp(sin, residual cos))",
          e.grad((t: Tensor) => ir.sum(withRes(t)))(x),
          Array.from(values(x)).map(Math.cos),
          1e-14,
          1e-14,
        );
        const [, pb] = e.vjp(withRes, x);
        expectClose(
          "vjp(customVjp(sin, residual cos))([1, 2, 3])",
          pb(tensor([1, 2, 3])),
          [Array.from(values(x)).map((a, i) => (i + 1) * Math.cos(a))],
          1e-14,
          1e-14,
        );
      },
    },
  ];
}

// ── pytrees, JS numbers, argnums ───────────────────────────────────────────────────────────

function pytreeCases(): Case[] {
  const c = (name: string, run: (e: LooseEngine, engine: Engine) => void): Case => ({
    group: "pytrees, JS numbers, argnums",
    name,
    features: ["pytrees"],
    run: (ctx) => run(loose(ctx.engine), ctx.engine),
  });
  return [
    c("a JS number in gives a JS number out (grad, valueAndGrad, jvp, vjp, jacobian, hessian, hvp)", (e) => {
      const f = (x: Tensor) => ir.mul(x, ir.mul(x, x));
      close("grad", e.grad(f)(2), 12);
      const [v, g] = e.valueAndGrad(f)(2);
      close("valueAndGrad value", v, 8);
      close("valueAndGrad gradient", g, 12);
      const [y, t] = e.jvp(f, [2], [1]);
      close("jvp primal", y, 8);
      close("jvp tangent", t, 12);
      const [y2, pb] = e.vjp(f, 2);
      close("vjp primal", y2, 8);
      const ct = pb(1);
      if (!Array.isArray(ct) || ct.length !== 1)
        throw new ConformanceError(`vjp pullback: expected one cotangent per primal, got ${describeResult(ct)}`);
      close("vjp cotangent", ct[0], 12);
      close("jacobian", e.jacobian(f)(2), 12);
      close("hessian", e.hessian(f)(2), 12);
      const hv = e.hvp(f, [2], [1]) as unknown[];
      close("hvp", hv[0], 12);
    }),
    c("argnums as a number and as an array (in the given order)", (e) => {
      const f = (x: Tensor, y: Tensor, z: Tensor) => ir.mul(ir.mul(x, ir.mul(y, y)), ir.exp(z));
      close("grad(f, 1)", e.grad(f, 1)(2, 3, 0), 2 * 2 * 3);
      const g = e.grad(f, [2, 0])(2, 3, 0) as unknown[];
      if (!Array.isArray(g) || g.length !== 2)
        throw new ConformanceError(`grad(f, [2, 0]): expected an array of 2 gradients, got ${describeResult(g)}`);
      close("grad(f, [2, 0])[0] (w.r.t. z)", g[0], 18);
      close("grad(f, [2, 0])[1] (w.r.t. x)", g[1], 9);
      const gv = e.grad(f, [1])(2, 3, 0) as unknown[];
      if (!Array.isArray(gv) || gv.length !== 1)
        throw new ConformanceError(`grad(f, [1]): expected an array of 1 gradient, got ${describeResult(gv)}`);
      close("grad(f, [1])[0]", gv[0], 12);
      const J = e.jacobian((x: Tensor, y: Tensor) => ir.mul(x, y), [0, 1])(tensor([1, 2]), 3) as unknown[];
      expectClose(
        "jacobian(x·y, [0, 1])",
        J,
        [
          [
            [3, 0],
            [0, 3],
          ],
          [1, 2],
        ],
        0,
        1e-14,
      );
    }),
    c(
      "nested objects and arrays of parameters: gradients mirror the structure (numbers stay numbers) and match finite differences",
      (e, engine) => {
        const params = {
          w: tensor([
            [0.5, -0.3],
            [0.2, 0.8],
          ]),
          b: tensor([0.1, -0.2]),
          extra: [0.7, { c: tensor([1.5, -0.5, 0.25]) }],
        };
        const xs = tensor([
          [1, 2],
          [-1, 0.5],
          [0.3, -0.7],
        ]);
        type P = typeof params;
        const loss = (p: P, x: Tensor) => {
          const h = ir.tanh(ir.add(ir.matmul(x, p.w), p.b));
          const extra = p.extra as unknown as [Tensor, { c: Tensor }];
          return ir.add(ir.mul(ir.sum(ir.mul(h, h)), extra[0]), ir.sum(ir.mul(extra[1].c, extra[1].c)));
        };
        const g = e.grad(loss)(params, xs) as P;
        const got = g as unknown as { w: unknown; b: unknown; extra: unknown[] };
        if (
          !(got.w instanceof Tensor) ||
          got.w.shape.join() !== "2,2" ||
          !(got.b instanceof Tensor) ||
          !Array.isArray(got.extra) ||
          typeof got.extra[0] !== "number" ||
          !((got.extra[1] as { c: unknown }).c instanceof Tensor)
        ) {
          throw new ConformanceError(
            `grad of a pytree: expected {w: Tensor[2,2], b: Tensor[2], extra: [number, {c: Tensor[3]}]}, got ${describeResult(g)}`,
          );
        }
        const [value, g2] = e.valueAndGrad(loss)(params, xs) as [unknown, unknown];
        close("valueAndGrad value", value instanceof Tensor ? value.item() : value, (loss(params, xs) as Tensor).item());
        expectClose("valueAndGrad gradient vs grad", g2, g, 1e-12, 1e-14);
        const x = flat([params]);
        const rng = new ir.Random(5);
        const u = x.leaves.map((l) => values(typeof l === "number" ? rng.normal([]) : rng.normal(l.shape)));
        const fd = finiteDifference((p: P) => loss(p, xs), x, u, 1e-3)[0]!;
        expectClose("⟨grad, u⟩ vs finite difference", [dotAll(flat(g).leaves.map(values), u)], [fd], 1e-7, 1e-9);
        checkGrads(engine, (p: P) => loss(p, xs), [params], { order: 2 });
      },
    ),
    c("hessian and jacobian with an argnums array: nested blocks [[Hxx, Hxy], [Hyx, Hyy]]", (e) => {
      const f = (x: Tensor, y: Tensor) => ir.mul(ir.mul(x, x), y);
      const H = e.hessian(f, [0, 1])(3, 2);
      expectClose(
        "hessian(x²y, [0, 1])(3, 2)",
        H,
        [
          [4, 6],
          [6, 0],
        ],
        1e-12,
        1e-12,
      );
      const Hv = e.hessian((v: Tensor) => ir.sum(ir.mul(ir.mul(v, v), v)))(tensor([1, 2]));
      expectClose(
        "hessian(sum(v³))([1, 2])",
        Hv,
        [
          [6, 0],
          [0, 12],
        ],
        1e-12,
        1e-12,
      );
    }),
    c("hvp and jacobian with pytrees: hvp matches finite differences of grad; jacobian mirrors output and input structures", (e) => {
      const params = { w: tensor([0.4, -0.3]), s: 0.7 };
      type P = typeof params;
      const loss = (p: P) => ir.mul(ir.sum(ir.tanh(ir.mul(p.w, p.w))), ir.exp(p.s as unknown as Tensor));
      const v = { w: tensor([1, -2]), s: 0.5 };
      const hv = e.hvp(loss, [params], [v]) as [P];
      const got = hv[0] as unknown as { w: unknown; s: unknown };
      if (!(got.w instanceof Tensor) || typeof got.s !== "number")
        throw new ConformanceError(`hvp with a pytree: expected [{w: Tensor, s: number}], got ${describeResult(hv)}`);
      const grad = (p: P) => e.grad(loss)(p);
      const x = flat([params]);
      const fd = finiteDifference(grad, x, flat([v]).leaves.map(values), 1e-3);
      expectClose("hvp vs finite differences of grad", hv[0], Array.from(fd), 1e-7, 1e-9);
      const f = (p: P) => ({ a: ir.mul(p.w, p.s as unknown as Tensor), b: ir.sum(p.w) });
      const J = e.jacobian(f)(params);
      if (
        !(J.a?.w instanceof Tensor) ||
        J.a.w.shape.join() !== "2,2" ||
        !(J.a.s instanceof Tensor) ||
        J.a.s.shape.join() !== "2" ||
        !(J.b?.w instanceof Tensor) ||
        J.b.w.shape.join() !== "2"
      ) {
        throw new ConformanceError(
          "jacobian of {a: f64[2], b: f64[]} w.r.t. {w: f64[2], s: number}: expected {a: {w: [2,2], s: [2]}, b: {w: [2], s}}, " +
            `got ${describeResult(J)}`,
        );
      }
      expectClose(
        "jacobian blocks",
        [J.a.w, J.a.s, J.b.w, J.b.s],
        [
          [
            [0.7, 0],
            [0, 0.7],
          ],
          [0.4, -0.3],
          [1, 1],
          0,
        ],
        1e-14,
        1e-14,
      );
      const [, pullback] = e.vjp(loss, params);
      const [ct] = pullback(1) as [{ w: unknown; s: unknown }];
      if (!(ct.w instanceof Tensor) || typeof ct.s !== "number")
        throw new ConformanceError(`vjp pullback with a pytree: expected [{w: Tensor, s: number}], got ${describeResult([ct])}`);
      expectClose("vjp pullback vs grad", ct, e.grad(loss)(params), 1e-14, 1e-14);
    }),
    c("jvp and vjp with pytree primals, tangents and outputs", (e) => {
      const f = (p: { a: Tensor; b: Tensor[] }) => ({ s: ir.mul(p.a, p.b[0]!), t: [ir.sin(p.b[1]!)] });
      const primals = { a: tensor([1, 2]), b: [tensor(3), tensor([0.5, 0.25])] };
      const tangents = { a: tensor([1, 0]), b: [tensor(2), tensor([1, 1])] };
      const [y, t] = e.jvp(f, [primals], [tangents]) as [{ s: Tensor; t: Tensor[] }, { s: Tensor; t: Tensor[] }];
      if (!(y.s instanceof Tensor) || !Array.isArray(t.t))
        throw new ConformanceError(`jvp with pytree output: expected {s, t: [..]}, got ${describeResult(t)}`);
      expectClose("jvp tangent", t, { s: [1 * 3 + 1 * 2, 0 * 3 + 2 * 2], t: [[Math.cos(0.5), Math.cos(0.25)]] }, 1e-14, 1e-14);
      const [, pb] = e.vjp(f, primals);
      const ct = pb({ s: tensor([1, 1]), t: [tensor([1, 0])] }) as [{ a: Tensor; b: Tensor[] }];
      expectClose("vjp cotangent", ct, [{ a: [3, 3], b: [3, [Math.cos(0.5), 0]] }], 1e-14, 1e-14);
    }),
    c("non-differentiated arguments (an int32 tensor) pass through grad", (e) => {
      const idx = tensor([2, 0], { dtype: "int32" });
      const f = (x: Tensor, i: Tensor) => ir.sum(ir.mul(ir.take(x, i), tensor([1, 10])));
      expectClose("grad(f, 0)(x, int indices)", e.grad(f, 0)(tensor([1, 2, 3]), idx), [10, 0, 1], 0, 0);
    }),
  ];
}

// ── control flow ───────────────────────────────────────────────────────────────────────────

function controlFlowCases(): Case[] {
  /** Runs `call`; a correct value passes, an error passes only if the engine declared "throws" and it is a ConcretizationError. */
  const attempt = (mode: ControlFlow, what: string, call: () => unknown, expected: unknown) => {
    let result: unknown;
    try {
      result = call();
    } catch (error) {
      if (mode === "throws" && error instanceof ChainruleError && error.code === "CONCRETIZATION") return;
      throw error;
    }
    expectClose(`${what} (control flow declared "${mode}")`, result, expected, 1e-12, 1e-14);
  };
  const branch = (x: Tensor) => (x.item() > 0 ? ir.sin(x) : ir.mul(ir.cos(x), 3));
  const loop = (x: Tensor) => {
    let y: Tensor = x;
    while (y.item() < 10) y = ir.mul(y, 2);
    return y;
  };
  return [
    {
      group: "control flow",
      name: "data-dependent if: correct on both branches, the same grad function reused alternately (never stale)",
      features: ["controlFlow"],
      run: ({ engine, controlFlow }) => {
        const g = loose(engine).grad(branch);
        for (const x of [1, -1, 0.5, -2, 1]) attempt(controlFlow, `grad(branch)(${x})`, () => g(x), x > 0 ? Math.cos(x) : -3 * Math.sin(x));
        for (const x of [0.7, -0.7])
          attempt(controlFlow, `jvp(branch, [${x}])`, () => loose(engine).jvp(branch, [x], [1])[1], x > 0 ? Math.cos(x) : -3 * Math.sin(x));
      },
    },
    {
      group: "control flow",
      name: "data-dependent loop: the number of iterations follows the input (grad of doubling-until-10)",
      features: ["controlFlow"],
      run: ({ engine, controlFlow }) => {
        const g = loose(engine).grad(loop);
        for (const [x, d] of [
          [1.5, 8],
          [3, 4],
          [0.5, 32],
          [3, 4],
          [11, 1],
        ] as const)
          attempt(controlFlow, `grad(loop)(${x})`, () => g(x), d);
      },
    },
    {
      group: "control flow",
      name: "closed-over values that change between calls are seen (a JS number and a Tensor; grad, valueAndGrad, jvp reused)",
      features: ["closures"],
      run: ({ engine, controlFlow }) => {
        const e = loose(engine);
        let scale = 2;
        const f = (x: Tensor) => ir.mul(ir.mul(x, x), scale);
        const g = e.grad(f);
        const vg = e.valueAndGrad(f);
        let weights = tensor([1, 2]);
        const h = (x: Tensor) => ir.sum(ir.mul(ir.sin(x), weights));
        const gh = e.grad(h);
        for (const k of [2, 3, -1]) {
          scale = k;
          attempt(controlFlow, `grad(x ↦ ${k}·x²)(1.5) after the closed-over number changed to ${k}`, () => g(1.5), 3 * k);
          attempt(controlFlow, `valueAndGrad(x ↦ ${k}·x²)(1.5)`, () => vg(1.5), [2.25 * k, 3 * k]);
          attempt(controlFlow, `jvp(x ↦ ${k}·x², [1.5], [1])`, () => e.jvp(f, [1.5], [1])[1], 3 * k);
          weights = tensor([k, 1]);
          attempt(
            controlFlow,
            `grad(x ↦ sum(sin x · w))([0, 0]) after the closed-over Tensor changed to [${k}, 1]`,
            () => gh(tensor([0, 0])),
            [k, 1],
          );
        }
      },
    },
    {
      group: "control flow",
      name: "branches on shapes and on where(...) are correct in every engine",
      run: ({ engine }) => {
        const e = loose(engine);
        const byShape = (x: Tensor) => (x.shape[0]! > 2 ? ir.sum(ir.mul(x, x)) : ir.sum(ir.sin(x)));
        expectClose("grad(shape branch)([1, 2, 3])", e.grad(byShape)(tensor([1, 2, 3])), [2, 4, 6], 1e-14, 1e-14);
        expectClose("grad(shape branch)([1, 2])", e.grad(byShape)(tensor([1, 2])), [Math.cos(1), Math.cos(2)], 1e-14, 1e-14);
        const sel = (x: Tensor) => ir.sum(ir.where(ir.greater(x, 0), ir.mul(x, x), ir.neg(x)));
        expectClose("grad(where branch)([-1, 2])", e.grad(sel)(tensor([-1, 2])), [-1, 4], 1e-14, 1e-14);
        expectClose("grad(where branch)([3, -4])", e.grad(sel)(tensor([3, -4])), [6, -1], 1e-14, 1e-14);
      },
    },
  ];
}

// ── errors ─────────────────────────────────────────────────────────────────────────────────

function errorCases(): Case[] {
  const c = (name: string, run: (e: LooseEngine) => void): Case => ({
    group: "errors",
    name,
    features: ["errors"],
    run: (ctx) => run(loose(ctx.engine)),
  });
  const v2 = () => tensor([1, 2]);
  const v3 = () => tensor([1, 2, 3]);
  return [
    c("a shape mismatch inside f surfaces as ir's ShapeError naming the op (grad, jvp, vjp)", (e) => {
      const f = (x: Tensor) => ir.sum(ir.add(x, v3()));
      expectError("grad(x ↦ sum(x + [3 values]))([2 values])", () => e.grad(f)(v2()), "SHAPE", /^add: expected/);
      expectError("jvp of the same", () => e.jvp(f, [v2()], [v2()]), "SHAPE", /^add: expected/);
      expectError("vjp of the same", () => e.vjp(f, v2()), "SHAPE", /^add: expected/);
      const m = (x: Tensor) => ir.sum(ir.matmul(x, tensor([[1, 2]])));
      expectError("grad(matmul with mismatched inner dims)", () => e.grad(m)(tensor([[1, 2, 3]])), "SHAPE", /^matmul: expected/);
    }),
    c("a transformation reused with new shapes re-checks them (no cached shapes, no garbage)", (e) => {
      const f = (x: Tensor, y: Tensor) => ir.sum(ir.mul(x, y));
      const g = e.grad(f, [0, 1]);
      expectClose(
        "grad(sum(x·y), [0, 1])([1, 2], [3, 4])",
        g(v2(), tensor([3, 4])),
        [
          [3, 4],
          [1, 2],
        ],
        0,
        0,
      );
      expectError("the same grad function on [2 values] and [3 values]", () => g(v2(), v3()), "SHAPE", /^mul: expected/);
      expectClose(
        "… and on [3 values] twice",
        g(v3(), v3()),
        [
          [1, 2, 3],
          [1, 2, 3],
        ],
        0,
        0,
      );
      const m = e.grad((a: Tensor, b: Tensor) => ir.sum(ir.matmul(a, b)));
      m(tensor([[1, 2]]), tensor([[1], [2]]));
      expectError(
        "the same grad(matmul) with mismatched inner dims",
        () => m(tensor([[1, 2]]), tensor([[1, 2, 3]])),
        "SHAPE",
        /^matmul: expected/,
      );
    }),
    c("grad of a non-scalar function is a ShapeError", (e) => {
      expectError(
        "grad(x ↦ x·2)([1, 2])",
        () => e.grad((x: Tensor) => ir.mul(x, 2))(v2()),
        "SHAPE",
        /^grad: expected f to return a scalar/,
      );
    }),
    c("bad arguments: a non-function, argnums out of range, int inputs to differentiate", (e) => {
      expectError("grad(42)", () => e.grad(42 as never)(1), "ARGUMENT", /^grad: expected a function/);
      expectError(
        "grad(f, 3) with 2 arguments",
        () => e.grad((x: Tensor, y: Tensor) => ir.mul(x, y), 3)(1, 2),
        "ARGUMENT",
        /^grad: expected argnums/,
      );
      expectError(
        "grad(f)(int32 tensor)",
        () => e.grad((x: Tensor) => ir.sum(x))(tensor([1, 2], { dtype: "int32" })),
        "DTYPE",
        /^grad: expected float inputs/,
      );
      expectError("grad(f)(a string)", () => e.grad((x: Tensor) => x)("x" as never), "ARGUMENT", /^grad: expected/);
    }),
    c("jvp tangents and vjp cotangents of the wrong shape or structure", (e) => {
      const f = (x: Tensor) => ir.mul(x, 2);
      expectError("jvp with a tangent of the wrong shape", () => e.jvp(f, [v2()], [v3()]), "SHAPE", /^jvp: expected tangent/);
      expectError("jvp with tangents of the wrong structure", () => e.jvp(f, [v2()], [v2(), v2()]), "ARGUMENT", /^jvp: expected tangents/);
      expectError(
        "jvp with primals that are not an array",
        () => e.jvp(f, v2() as never, [v2()]),
        "ARGUMENT",
        /^jvp: expected primals and tangents as arrays/,
      );
      const [, pb] = e.vjp(f, v2());
      expectError("vjp pullback with a cotangent of the wrong shape", () => pb(v3()), "SHAPE", /^vjp pullback: expected/);
    }),
    c("a tracer that escapes its transformation is rejected when used later", (e) => {
      let leaked: Tensor | undefined;
      e.grad((x: Tensor) => {
        leaked = x;
        return ir.mul(x, x);
      })(1);
      expectError("using a leaked tracer", () => ir.add(leaked!, 1), "ESCAPED_TRACER", /expected values of active transformations/);
    }),
  ];
}

// ── ops without a derivative, casts ───────────────────────────────────────────────────────

function nonDifferentiableCases(): Case[] {
  const c = (name: string, run: (e: LooseEngine) => void): Case => ({
    group: "comparisons, argmax, oneHot, casts",
    name,
    run: (ctx) => run(loose(ctx.engine)),
  });
  const x = () => tensor([0.5, -1.5, 2.5, -0.25]);
  return [
    c("comparisons under a transformation: same masks as eager, zero derivative through them", (e) => {
      for (const [name, op] of [
        ["greater", ir.greater],
        ["greaterEqual", ir.greaterEqual],
        ["less", ir.less],
        ["lessEqual", ir.lessEqual],
        ["equal", ir.equal],
        ["notEqual", ir.notEqual],
      ] as const) {
        const f = (t: Tensor) => ir.sum(ir.mul(t, ir.astype(op(t, 0.5), "float64")));
        const mask = Array.from(values(ir.astype(op(x(), 0.5), "float64")));
        expectClose(`grad(sum(x·${name}(x, 0.5)))`, e.grad(f)(x()), mask, 0, 0);
        const [y] = e.vjp((t: Tensor) => ir.astype(op(t, 0.5), "float64"), x());
        expectClose(`${name} primal under vjp`, y, mask, 0, 0);
      }
    }),
    c("argmax and oneHot under a transformation: the picked element gets the gradient", (e) => {
      const f = (t: Tensor) => ir.mul(ir.take(t, ir.argmax(t)), 3);
      expectClose("grad(3·x[argmax x])", e.grad(f)(x()), [0, 0, 3, 0], 0, 0);
      const g = (t: Tensor) => ir.sum(ir.mul(t, ir.oneHot(ir.argmax(t), 4)));
      expectClose("grad(sum(x·oneHot(argmax x)))", e.grad(g)(x()), [0, 0, 1, 0], 0, 0);
      const m = tensor([
        [1, 5, 2],
        [7, 0, 3],
      ]);
      const [y] = e.vjp((t: Tensor) => ir.astype(ir.argmax(t, 1), "float64"), m);
      expectClose("argmax(axis 1) primal under vjp", y, [1, 0], 0, 0);
    }),
    c("casts: float64 → float32 → float64 passes the gradient (rounded), float32 gradients stay float32", (e) => {
      const f = (t: Tensor) => ir.sum(ir.mul(ir.astype(ir.astype(t, "float32"), "float64"), tensor([1, 2, 3, 4])));
      expectClose("grad through a float32 round trip", e.grad(f)(x()), [1, 2, 3, 4], 0, 0);
      const x32 = ir.astype(x(), "float32");
      const g = e.grad((t: Tensor) => ir.sum(ir.mul(t, t)))(x32);
      if (!(g instanceof Tensor) || g.dtype !== "float32")
        throw new ConformanceError(`grad of a float32 input: expected a float32 Tensor, got ${describeResult(g)}`);
      expectClose(
        "grad(sum(x²)) in float32",
        g,
        Array.from(values(x32)).map((v) => 2 * v),
        1e-7,
        1e-7,
      );
    }),
  ];
}

export function groupCases(): Case[] {
  return [
    ...nestingCases(),
    ...conventionCases(),
    ...controlCases(),
    ...pytreeCases(),
    ...controlFlowCases(),
    ...errorCases(),
    ...nonDifferentiableCases(),
    // family: reductions, scans and sorting (issue 17)
    ...reductionCases(),
    // the math family: predicates, logic, rounding (no derivative)
    ...mathCases(),
    // structured control flow (issue 19, ctrl)
    ...structuredControlCases(),
  ];
}
