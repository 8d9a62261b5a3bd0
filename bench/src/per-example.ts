/**
 * The per-example-gradient benchmark (issue 19): the gradient of an MLP's loss for each of the 64
 * examples of a batch, separately — `vmap(grad(loss), { inAxes: [null, 0, 0] })` — against a loop
 * of 64 gradient calls and against jax-js's `jit(vmap(grad))`; and, as the yardstick of the issue's
 * target (vmap(grad) under jit ≤ 2× one batched gradient step), the gradient of the batch's mean
 * loss. MLP 784-128-10 (tanh, softmax cross-entropy), float32, as W3.
 *
 *   npm run bench:per-example            # measure, print, and write its section of bench/RESULTS.md
 *   npm run bench:per-example -- --quick # fewer rounds, prints only
 *
 * Every implementation is checked against the chainrule reverse engine's loop of gradients before
 * it is timed. Timing: `timeInterleaved` (rotated rounds, medians).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import * as ir from "@chainrule/ir";
import { Random, type Tensor } from "@chainrule/ir";
import * as jitPackage from "@chainrule/jit";
import * as reverse from "@chainrule/reverse";
import type * as JAX from "@jax-js/jax";
import { PER_EXAMPLE_BEGIN, PER_EXAMPLE_END } from "./per-example-markers.js";
import { machine, machineLine, markdownTable } from "./report.js";
import { formatRatio, formatSpread, formatTime } from "./stats.js";
import { timeInterleaved, type Case } from "./timing.js";

const quick = process.argv.includes("--quick");
const BATCH = 64;

/** Layer sizes: the W3 MLP (per-example gradients of 101,770 parameters: 26 MB per call) and a small one. */
type Dims = readonly [number, number, number];
const MODELS: readonly Dims[] = [
  [784, 128, 10],
  [32, 32, 10],
];

interface Params {
  readonly w1: Tensor;
  readonly b1: Tensor;
  readonly w2: Tensor;
  readonly b2: Tensor;
}

/** Seeded data: parameters, a batch of inputs and one-hot labels (float32). */
function makeData([D, H, O]: Dims) {
  const rng = new Random(19);
  const f32 = { dtype: "float32" as const };
  const params: Params = {
    w1: rng.uniform([D, H], { low: -0.05, high: 0.05, ...f32 }),
    b1: rng.uniform([H], { low: -0.05, high: 0.05, ...f32 }),
    w2: rng.uniform([H, O], { low: -0.2, high: 0.2, ...f32 }),
    b2: rng.uniform([O], { low: -0.1, high: 0.1, ...f32 }),
  };
  const xs = rng.uniform([BATCH, D], { low: 0, high: 1, ...f32 });
  const labels = Array.from({ length: BATCH }, () => Math.floor(rng.nextFloat() * O));
  const ys = ir.oneHot(ir.tensor(labels, { dtype: "int32" }), O, "float32");
  return { params, xs, ys, dims: [D, H, O] as Dims };
}

/** One example's loss: x [784], y [10] one-hot. */
function loss(p: Params, x: Tensor, y: Tensor): Tensor {
  const h = ir.tanh(ir.add(ir.matmul(x, p.w1), p.b1));
  const logits = ir.add(ir.matmul(h, p.w2), p.b2);
  return ir.neg(ir.sum(ir.mul(ir.logSoftmax(logits, -1), y)));
}

/** The batch's mean loss: X [64, 784], Y [64, 10]. */
function batchLoss(p: Params, xs: Tensor, ys: Tensor): Tensor {
  const h = ir.tanh(ir.add(ir.matmul(xs, p.w1), p.b1));
  const logits = ir.add(ir.matmul(h, p.w2), p.b2);
  return ir.div(ir.neg(ir.sum(ir.mul(ir.logSoftmax(logits, -1), ys))), xs.shape[0]!);
}

type Grads = Record<keyof Params, Tensor>;
type Result = Record<keyof Params, Float32Array | Float64Array>;
const KEYS: readonly (keyof Params)[] = ["w1", "b1", "w2", "b2"];

function stackRows(rows: readonly Grads[]): Result {
  const out = {} as Result;
  for (const key of KEYS) {
    const size = rows[0]![key].size;
    const data = new Float32Array(size * rows.length);
    rows.forEach((r, j) => data.set(r[key].data, j * size));
    out[key] = data;
  }
  return out;
}

function toResult(g: Grads): Result {
  return Object.fromEntries(KEYS.map((k) => [k, g[k].data])) as Result;
}

interface Impl {
  readonly label: string;
  readonly what: string;
  readonly case: Case;
  /** Per-example gradients (stacked), or undefined for the batched step (checked on its own). */
  readonly result?: () => Result;
  readonly batched?: () => Result;
}

function chainruleImpls(data: ReturnType<typeof makeData>): Impl[] {
  const { params, xs, ys } = data;
  const rows = Array.from({ length: BATCH }, (_, j) => [ir.take(xs, j, 0), ir.take(ys, j, 0)] as const);
  const perExample = jitPackage.jit(vmap3(jitPackage.grad(loss) as never));
  const jitGrad = jitPackage.grad(loss) as (p: Params, x: Tensor, y: Tensor) => Grads;
  const batchedGrad = jitPackage.grad(batchLoss) as (p: Params, x: Tensor, y: Tensor) => Grads;
  const reverseGrad = reverse.grad(loss) as (p: Params, x: Tensor, y: Tensor) => Grads;
  const reverseVmap = vmap3(reverse.grad(loss) as never);
  return [
    {
      label: "chainrule jit: jit(vmap(grad(loss)))",
      what: "per-example, one compiled program",
      case: { run: () => perExample(params, xs, ys) },
      result: () => toResult(perExample(params, xs, ys) as Grads),
    },
    {
      label: "chainrule jit: a loop of 64 grad(loss) calls",
      what: "per-example, 64 calls of one compiled gradient",
      case: { run: () => rows.map(([x, y]) => jitGrad(params, x, y)) },
      result: () => stackRows(rows.map(([x, y]) => jitGrad(params, x, y))),
    },
    {
      label: "chainrule jit: grad of the batch's mean loss",
      what: "one batched gradient (the yardstick)",
      case: { run: () => batchedGrad(params, xs, ys) },
      batched: () => toResult(batchedGrad(params, xs, ys)),
    },
    {
      label: "chainrule reverse: vmap(grad(loss))",
      what: "per-example, eager batched tape",
      case: { run: () => reverseVmap(params, xs, ys) },
      result: () => toResult(reverseVmap(params, xs, ys) as Grads),
    },
    {
      label: "chainrule reverse: a loop of 64 grad(loss) calls",
      what: "per-example, 64 tapes",
      case: { run: () => rows.map(([x, y]) => reverseGrad(params, x, y)) },
      result: () => stackRows(rows.map(([x, y]) => reverseGrad(params, x, y))),
    },
  ];
}

function vmap3(f: (p: Params, x: Tensor, y: Tensor) => unknown): (p: Params, x: Tensor, y: Tensor) => unknown {
  return ir.vmap(f, { inAxes: [null, 0, 0] });
}

async function jaxImpls(data: ReturnType<typeof makeData>): Promise<{ impls: Impl[]; absent?: string; version: string }> {
  const version = "0.1.25";
  try {
    const g = globalThis as { Float16Array?: unknown };
    if (g.Float16Array === undefined) g.Float16Array = class Float16Array {};
    const jax = (await import("@jax-js/jax")) as typeof JAX;
    const devices = await jax.init("wasm", "cpu");
    if (!devices.includes("wasm")) throw new Error(`init started ${JSON.stringify(devices)}, no wasm`);
    jax.defaultDevice("wasm");
    const { numpy: np, nn, tree } = jax;
    type JArray = JAX.Array;
    type JParams = Record<keyof Params, JArray>;
    const f32 = { dtype: np.float32 };
    const [D, H, O] = data.dims;
    const params: JParams = {
      w1: np.array(data.params.w1.data as Float32Array, f32).reshape([D, H]),
      b1: np.array(data.params.b1.data as Float32Array, f32),
      w2: np.array(data.params.w2.data as Float32Array, f32).reshape([H, O]),
      b2: np.array(data.params.b2.data as Float32Array, f32),
    };
    const xs = np.array(data.xs.data as Float32Array, f32).reshape([BATCH, D]);
    const ys = np.array(data.ys.data as Float32Array, f32).reshape([BATCH, O]);
    // every jax-js function consumes its arguments once (`.ref` for another use)
    const jLoss = (p: JParams, x: JArray, y: JArray): JArray => {
      const h = np.tanh(np.matmul(x, p.w1).add(p.b1));
      return nn.logSoftmax(np.matmul(h, p.w2).add(p.b2), -1).mul(y).sum().mul(-1);
    };
    const jBatchLoss = (p: JParams, x: JArray, y: JArray): JArray => jLoss(p, x, y).mul(1 / BATCH);
    const perExample = jax.jit(jax.vmap(jax.grad(jLoss) as never, [null, 0, 0]) as never) as unknown as (
      p: JParams,
      x: JArray,
      y: JArray,
    ) => JParams;
    const batched = jax.jit(jax.grad(jBatchLoss) as never) as unknown as (p: JParams, x: JArray, y: JArray) => JParams;
    const realize = (r: JParams): Result => Object.fromEntries(KEYS.map((k) => [k, r[k].dataSync() as Float32Array])) as Result;
    const call = (f: (p: JParams, x: JArray, y: JArray) => JParams) => () => realize(f(tree.ref(params) as JParams, xs.ref, ys.ref));
    return {
      version,
      impls: [
        {
          label: `jax-js ${version} wasm: jit(vmap(grad(loss)))`,
          what: "per-example, one compiled program",
          case: { run: call(perExample) },
          result: call(perExample),
        },
        {
          label: `jax-js ${version} wasm: jit(grad) of the batch's mean loss`,
          what: "one batched gradient",
          case: { run: call(batched) },
          batched: call(batched),
        },
      ],
    };
  } catch (error) {
    return { version, impls: [], absent: String(error).split("\n")[0]! };
  }
}

/** Max relative error of `got` against `want` (relative to want's largest magnitude). */
function relError(got: Result, want: Result): number {
  let worst = 0;
  for (const key of KEYS) {
    const a = got[key];
    const b = want[key];
    if (a.length !== b.length) return Infinity;
    let scale = 0;
    for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
    for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (scale || 1));
  }
  return worst;
}

/** The mean over the batch of stacked per-example gradients. */
function meanOf(perExample: Result): Result {
  const out = {} as Result;
  for (const key of KEYS) {
    const all = perExample[key];
    const size = all.length / BATCH;
    const mean = new Float64Array(size);
    for (let j = 0; j < BATCH; j++) for (let i = 0; i < size; i++) mean[i] = mean[i]! + all[j * size + i]! / BATCH;
    out[key] = mean;
  }
  return out;
}

async function measure(dims: Dims): Promise<{ section: string; failed: number }> {
  const data = makeData(dims);
  const jax = await jaxImpls(data);
  const impls = [...chainruleImpls(data), ...jax.impls];
  const reference = impls.find((i) => i.label.startsWith("chainrule reverse: a loop"))!.result!();
  const checks = impls.map((impl) => {
    const error = impl.result !== undefined ? relError(impl.result(), reference) : relError(impl.batched!(), meanOf(reference));
    return { error, ok: error < 1e-4 };
  });
  const timed = await timeInterleaved(
    impls.map((i) => i.case),
    quick
      ? { warmupMs: 100, warmupCalls: 2, sampleMs: 50, rounds: 5, caseBudgetMs: 1000, minRounds: 3 }
      : { warmupMs: 500, warmupCalls: 3, sampleMs: 150, rounds: 15, caseBudgetMs: 6000, minRounds: 5 },
  );
  const yardstickTimes = timed[impls.findIndex((i) => i.label === "chainrule jit: grad of the batch's mean loss")]!.summary;
  const yardstick = yardstickTimes.median;
  const rows = impls.map((impl, i) => {
    const t = timed[i]!;
    return [
      impl.label,
      impl.what,
      t.error ?? formatTime(t.summary.median),
      t.error === undefined ? formatSpread(t.summary) : "",
      t.error === undefined ? formatRatio(t.summary.median / yardstick) : "",
      `${t.summary.count}×${t.reps}`,
      `${checks[i]!.ok ? "ok" : "WRONG"} (max rel. error ${checks[i]!.error.toExponential(1)})`,
    ];
  });
  const vmapJit = timed[0]!.summary.median / yardstick;
  const fastest = timed[0]!.summary.min / yardstickTimes.min;
  const [D, H, O] = dims;
  const count = D * H + H + H * O + O;
  const section = [
    `#### MLP ${D}-${H}-${O}: ${count.toLocaleString("en")} parameters, per-example gradients ${BATCH} × that`,
    "",
    markdownTable(["implementation", "what", "median", "min–max", "× one batched gradient (jit)", "samples", "check"], rows),
    "",
    `Target (issue 19), vmap(grad) under jit ≤ 2× one batched gradient: ${formatRatio(vmapJit)} (medians) ` +
      `${vmapJit <= 2 ? "✓" : "✗"}; ${formatRatio(fastest)} (fastest samples).` +
      `${jax.absent !== undefined ? ` jax-js absent: ${jax.absent}.` : ""}`,
  ].join("\n");
  console.log(section);
  return { section, failed: checks.filter((c) => !c.ok).length };
}

async function main(): Promise<void> {
  const start = loadavg()[0]!;
  const parts: string[] = [];
  let failed = 0;
  for (const dims of MODELS) {
    const result = await measure(dims);
    parts.push(result.section);
    failed += result.failed;
  }
  const section = [
    "### Per-example gradients: vmap(grad) of an MLP loss, batch 64 (issue 19)",
    "",
    `${machineLine(machine())} · load average ${start.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end ` +
      `(1 min; 2 cores shared with other processes)${quick ? " · --quick" : ""}`,
    "",
    "tanh MLP, softmax cross-entropy, float32, batch 64. The per-example gradients are 64 copies of every parameter's " +
      "gradient; the yardstick is chainrule jit's gradient of the batch's mean loss (one gradient of the same parameters, " +
      "64× less output). Checks: each implementation's per-example gradients against chainrule reverse's loop of 64 " +
      "gradients; the batched gradients against their mean. Timing: interleaved rounds, medians and min–max; on a " +
      "loaded machine the medians move severalfold from run to run and the fastest samples (the target line's second " +
      "figure) are the steadier comparison.",
    "",
    ...parts.flatMap((p) => [p, ""]),
  ]
    .join("\n")
    .trimEnd();
  if (!quick && !process.argv.includes("--no-write")) writeSection(section);
  if (failed > 0) {
    console.error(`per-example: ${failed} implementation(s) gave wrong gradients`);
    process.exit(1);
  }
  process.exit(0);
}

/** Replaces (or appends) the section between the markers in bench/RESULTS.md. */
function writeSection(section: string): void {
  const path = fileURLToPath(new URL("../RESULTS.md", import.meta.url));
  const text = readFileSync(path, "utf8");
  const block = `${PER_EXAMPLE_BEGIN}\n${section}\n${PER_EXAMPLE_END}`;
  const start = text.indexOf(PER_EXAMPLE_BEGIN);
  const end = text.indexOf(PER_EXAMPLE_END);
  const next =
    start >= 0 && end > start ? text.slice(0, start) + block + text.slice(end + PER_EXAMPLE_END.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
  console.log(`wrote ${path}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
