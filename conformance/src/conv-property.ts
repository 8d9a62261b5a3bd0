/**
 * The convolution family's property case (issue 18): random combinations of 1–3 spatial axes,
 * batch, groups, channels, kernel sizes, strides, dilations and padding rules ("valid", "same",
 * explicit [lo, hi]) — conv's value and its gradients with respect to x and w on the engine
 * against a direct loop written here from the definition (out[n, o, p] = Σ x[n, c, p·s + k·d −
 * lo] · w[o, c, k] over the group's channels and the taps that land inside x). fast-check prints
 * the seed and the failing configuration.
 */
import * as ir from "@chainrule/ir";
import { Random, type Tensor } from "@chainrule/ir";
import fc from "fast-check";
import type { Case, Context } from "./cases.js";
import { loose } from "./checkgrads.js";
import { ConformanceError, expectClose } from "./expect.js";

interface AxisConfig {
  readonly size: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  /** "valid", "same", or explicit [lo, hi]. */
  readonly padding: "valid" | "same" | readonly [number, number];
}

interface ConvConfig {
  readonly batch: number;
  readonly groups: number;
  readonly inPerGroup: number;
  readonly outPerGroup: number;
  readonly axes: readonly AxisConfig[];
  readonly seed: number;
}

const axisArb = (maxSize: number): fc.Arbitrary<AxisConfig> =>
  fc
    .record({
      size: fc.integer({ min: 1, max: maxSize }),
      kernel: fc.integer({ min: 1, max: 3 }),
      stride: fc.integer({ min: 1, max: 3 }),
      dilation: fc.integer({ min: 1, max: 2 }),
      padding: fc.oneof(
        fc.constant("valid" as const),
        fc.constant("same" as const),
        fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
      ),
    })
    // the padded input must hold the dilated kernel ("same" always does)
    .map((a) => {
      const pad = a.padding === "valid" ? 0 : a.padding === "same" ? Infinity : a.padding[0] + a.padding[1];
      const span = (a.kernel - 1) * a.dilation + 1;
      return a.size + pad >= span ? a : { ...a, size: span - (Number.isFinite(pad) ? pad : 0) };
    });

const configArb: fc.Arbitrary<ConvConfig> = fc.integer({ min: 1, max: 3 }).chain((spatial) =>
  fc.record({
    batch: fc.integer({ min: 1, max: 2 }),
    groups: fc.integer({ min: 1, max: 2 }),
    inPerGroup: fc.integer({ min: 1, max: 2 }),
    outPerGroup: fc.integer({ min: 1, max: 2 }),
    axes: fc.array(axisArb([7, 5, 3][spatial - 1]!), { minLength: spatial, maxLength: spatial }),
    seed: fc.nat({ max: 0x7fffffff }),
  }),
);

/** (lo, hi) of one axis, resolving "same" as JAX does: ⌈n / s⌉ outputs, the odd cell high. */
function sides(a: AxisConfig): [number, number] {
  if (a.padding === "valid") return [0, 0];
  if (a.padding !== "same") return [a.padding[0], a.padding[1]];
  const out = Math.ceil(a.size / a.stride);
  const total = Math.max(0, (out - 1) * a.stride + (a.kernel - 1) * a.dilation + 1 - a.size);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Row-major coordinates of every cell of `shape`. */
function cells(shape: readonly number[]): number[][] {
  let out: number[][] = [[]];
  for (const d of shape) out = out.flatMap((c) => Array.from({ length: d }, (_, i) => [...c, i]));
  return out;
}

const offset = (shape: readonly number[], coords: readonly number[]) => coords.reduce((acc, v, i) => acc * shape[i]! + v, 0);

interface Direct {
  readonly y: number[];
  readonly yShape: number[];
  readonly gx: number[];
  readonly gw: number[];
}

/** The conv, and the gradients of Σ y·ct, by direct loops over every (output, channel, tap). */
function direct(cfg: ConvConfig, x: Tensor, w: Tensor, ct: (yShape: number[]) => Tensor): Direct {
  const c = cfg.groups * cfg.inPerGroup;
  const o = cfg.groups * cfg.outPerGroup;
  const pads = cfg.axes.map(sides);
  const outSizes = cfg.axes.map(
    (a, i) => Math.floor((a.size + pads[i]![0] + pads[i]![1] - (a.kernel - 1) * a.dilation - 1) / a.stride) + 1,
  );
  const xShape = [cfg.batch, c, ...cfg.axes.map((a) => a.size)];
  const wShape = [o, cfg.inPerGroup, ...cfg.axes.map((a) => a.kernel)];
  const yShape = [cfg.batch, o, ...outSizes];
  const g = ct(yShape);
  const y = new Array<number>(yShape.reduce((p, q) => p * q, 1)).fill(0);
  const gx = new Array<number>(x.size).fill(0);
  const gw = new Array<number>(w.size).fill(0);
  const taps = cells(cfg.axes.map((a) => a.kernel));
  for (const pos of cells(yShape)) {
    const [n, oc, ...p] = pos as [number, number, ...number[]];
    const group = Math.floor(oc / cfg.outPerGroup);
    const yi = offset(yShape, pos);
    for (let ci = 0; ci < cfg.inPerGroup; ci++) {
      for (const k of taps) {
        const src = p.map((pi, a) => pi * cfg.axes[a]!.stride + k[a]! * cfg.axes[a]!.dilation - pads[a]![0]);
        if (src.some((v, a) => v < 0 || v >= cfg.axes[a]!.size)) continue;
        const xi = offset(xShape, [n, group * cfg.inPerGroup + ci, ...src]);
        const wi = offset(wShape, [oc, ci, ...k]);
        y[yi]! += x.data[xi]! * w.data[wi]!;
        gx[xi]! += g.data[yi]! * w.data[wi]!;
        gw[wi]! += g.data[yi]! * x.data[xi]!;
      }
    }
  }
  return { y, yShape, gx, gw };
}

function checkConfig(ctx: Context, cfg: ConvConfig): void {
  const e = loose(ctx.engine);
  const rng = new Random(cfg.seed);
  const c = cfg.groups * cfg.inPerGroup;
  const x = rng.uniform([cfg.batch, c, ...cfg.axes.map((a) => a.size)], { low: -1, high: 1 });
  const w = rng.uniform([cfg.groups * cfg.outPerGroup, cfg.inPerGroup, ...cfg.axes.map((a) => a.kernel)], { low: -1, high: 1 });
  let ct: Tensor | undefined;
  const want = direct(cfg, x, w, (shape) => (ct = rng.uniform(shape, { low: -1, high: 1 })));
  const options = {
    stride: cfg.axes.map((a) => a.stride),
    dilation: cfg.axes.map((a) => a.dilation),
    groups: cfg.groups,
    padding: cfg.axes.every((a) => a.padding === "same") ? ("same" as const) : cfg.axes.map(sides),
  };
  const f = (a: Tensor, b: Tensor) => ir.conv(a, b, options);
  const [y] = e.vjp(f, x, w);
  expectClose("conv vs the direct loop", y, want.y, 1e-12, 1e-12);
  checkShape((y as Tensor).shape, want.yShape);
  const loss = (a: Tensor, b: Tensor) => ir.sum(ir.mul(f(a, b), ct!));
  const [gx, gw] = e.grad(loss, [0, 1])(x, w) as Tensor[];
  expectClose("∂/∂x of Σ conv·ȳ vs the direct loop", gx, want.gx, 1e-12, 1e-12);
  expectClose("∂/∂w of Σ conv·ȳ vs the direct loop", gw, want.gw, 1e-12, 1e-12);
}

function checkShape(shape: readonly number[], want: readonly number[]): void {
  if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
    throw new ConformanceError(`conv: expected shape [${want.join(", ")}], got [${shape.join(", ")}]`);
  }
}

/** maxPool's tie convention: k tied maxima of a window share its cotangent, 1/k each (as `max`). */
function checkPoolTies(ctx: Context): void {
  const e = loose(ctx.engine);
  const x = ir.tensor([
    [
      [
        [1, 3, 5, 5],
        [3, 2, 5, 5],
      ],
    ],
  ]);
  const loss = (t: Tensor) => ir.sum(ir.mul(ir.maxPool(t, 2), ir.tensor([1, 2])));
  // window 1: 3 twice → ½ of 1 each; window 2: 5 four times → ¼ of 2 each
  expectClose("grad of maxPool at ties", e.grad(loss)(x), [0, 0.5, 0.5, 0.5, 0.5, 0, 0.5, 0.5], 0, 0);
  // forward mode agrees: the tangent of a window's max is the mean of its tied maxima's tangents
  const [, tangent] = e.jvp(
    (t: Tensor) => ir.maxPool(t, 2),
    [x],
    [
      ir.tensor([
        [
          [
            [0, 4, 1, 2],
            [8, 0, 3, 6],
          ],
        ],
      ]),
    ],
  );
  expectClose("jvp of maxPool at ties", tangent, [6, 3], 0, 0);
}

export function convCases(): Case[] {
  return [
    {
      group: "conventions",
      name: "maxPool: k tied maxima of a window get 1/k of its cotangent each (grad and jvp), as max reductions",
      features: ["conventions"],
      run: checkPoolTies,
    },
    {
      group: "per-op",
      name:
        "conv property (fast-check): random 1–3-d stride/padding/dilation/groups combinations — value, ∂/∂x and ∂/∂w " +
        "against a direct loop",
      timeout: 120_000,
      run: (ctx) => {
        fc.assert(
          fc.property(configArb, (cfg) => checkConfig(ctx, cfg)),
          { numRuns: 25, seed: ctx.seed + 18, includeErrorInReport: true },
        );
      },
    },
  ];
}
