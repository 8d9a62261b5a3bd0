import { describe, expect, it } from "vitest";
import { ArenaPlan } from "./arena.js";
import { ewFunction, ewKey, type EwOp, type EwSpec } from "./elementwise.js";
import { instantiate, kernelModule } from "./kernels.js";
import { ULP_BOUND, type Math32 } from "./math32.js";

/** Runs op over `xs` in a float32 kernel. */
function run(op: EwOp, xs: Float32Array): Float32Array {
  const spec: EwSpec = {
    dtype: "float32",
    outer: 1,
    inner: xs.length,
    operands: ["full"],
    nodes: [{ op, args: [{ operand: 0 }] }],
    stores: [0],
  };
  const plan = new ArenaPlan();
  const x = plan.reserve(xs.length * 4),
    y = plan.reserve(xs.length * 4);
  const arena = plan.create(false);
  arena.f32(x, xs.length).set(xs);
  instantiate(
    kernelModule(ewKey(spec), false, () => [ewFunction(spec)]),
    arena.memory,
  )["ew"]!(x, y);
  return arena.f32(y, xs.length).slice();
}

const REFERENCE: Record<Math32, (x: number) => number> = {
  exp: Math.exp,
  log: Math.log,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

/** Spacing of float32 values at |v| (subnormal spacing at least). */
function ulp(v: number): number {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/** Every `stride`-th float32 bit pattern (both signs), plus the interesting ones. */
function samples(stride: number): Float32Array {
  const bits: number[] = [];
  for (let b = 0; b < 0x7f800000; b += stride) bits.push(b, b | 0x80000000);
  const out = new Float32Array(new Uint32Array(bits).buffer);
  return out;
}

const DEEP = Boolean(process.env["CHAINRULE_DEEP"]);
const STRIDE = DEEP ? 61 : 997;
/** Dense sampling takes seconds (minutes when deep) on a shared machine. */
const TIMEOUT = DEEP ? 900_000 : 60_000;

describe("float32 transcendentals in kernels", () => {
  for (const op of ["exp", "log", "tanh", "sigmoid"] as const) {
    it(
      `${op}: within ${ULP_BOUND[op]} ulp of Math.${op === "sigmoid" ? "exp-based sigmoid" : op} over dense samples; special values exact`,
      () => {
        const xs = samples(STRIDE);
        const got = run(op, xs);
        let worst = 0;
        let at = 0;
        for (let i = 0; i < xs.length; i++) {
          const exact = REFERENCE[op](xs[i]!);
          const rounded = Math.fround(exact);
          const g = got[i]!;
          let err: number;
          if (Number.isNaN(exact)) err = Number.isNaN(g) ? 0 : Infinity;
          else if (!Number.isFinite(rounded))
            err = g === rounded ? 0 : Number.isFinite(g) ? Math.abs(g - exact) / ulp(3.4028234663852886e38) : Infinity;
          else err = Math.abs(g - exact) / ulp(exact);
          if (!(err <= worst)) {
            worst = err;
            at = xs[i]!;
          }
        }
        if (process.env["CHAINRULE_PRINT_ULP"]) console.log(op, "worst", worst, "ulp at", at);
        expect({ op, worst: worst <= ULP_BOUND[op] ? "ok" : `${worst} ulp at ${at}` }).toEqual({ op, worst: "ok" });
        const specials = Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1, -1]);
        const out = run(op, specials);
        specials.forEach((x, i) => {
          const want = Math.fround(REFERENCE[op](x));
          if (Number.isNaN(want) || !Number.isFinite(x) || x === 0) expect({ x, v: out[i] }).toEqual({ x, v: want });
        });
      },
      TIMEOUT,
    );
  }
});
