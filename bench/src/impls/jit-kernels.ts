/**
 * @chainrule/jit on its WebAssembly SIMD kernels with explicit settings: one and two threads, and
 * (in a child process started with `--experimental-wasm-relaxed-simd`, see child.ts `kernels`)
 * relaxed-SIMD FMA. Only the workloads with a large matmul run on kernels:
 *
 * - W3: the whole training step in one `jit(...)`: valueAndGrad of the loss and the SGD update,
 *   returning [loss, new params] (the way jax-js's jit row compiles it). The answer checked is the
 *   loss and the gradient the timed function applied, (p − p′) / lr, from the initial parameters.
 * - W4: `jit((a, b) => matmul(a, b), { threads })`.
 * - W5: the CNN's whole training step in one `jit` (as W3), params donated.
 * - W6: `jit(conv3x3Same, { threads })`.
 *
 * W1 and W2 run the same generated JavaScript as the `jit` row (no matmul, no conv, no kernels): not repeated.
 *
 * Ids: `jit-1t`, `jit-2t`; where FMA is in effect in the process (relaxed SIMD validates and the
 * kernels' `fma` setting is on) `jit-fma-1t`, `jit-fma-2t` instead, so a label never claims a
 * setting the kernels did not use; `facts` reads the compiled program's own header to confirm it.
 */
import { matmul, mul, sub, tensor, type Engine, type Tensor } from "@chainrule/ir";
import type * as JitPackage from "@chainrule/jit";
import { cnnSegments, mlpSegments } from "../reference.js";
import type { Built, CnnVariant, ConvVariant, Implementation, MatmulVariant, MlpVariant, Unsupported, Variant } from "../workloads.js";
import { cnnLoss, cnnTensors, conv3x3Same, convTensors, type CnnParams } from "./cnn-model.js";
import type { EnginePackage } from "./chainrule.js";
import { mlpLoss, mlpTensors, type MlpParams } from "./mlp-model.js";
import { kernelId, kernelLabel, kernelSettings, programFact } from "./jit-program.js";

/** What the kernel rows use of @chainrule/jit. */
export type JitKernelApi = Pick<typeof JitPackage, "jit" | "kernelInfo">;

/** The package's `jit` and `kernelInfo`, when it exports both. */
export function jitKernelApi(pkg: EnginePackage): JitKernelApi | undefined {
  const m = pkg.module;
  if (pkg.id !== "jit" || typeof m?.["jit"] !== "function" || typeof m["kernelInfo"] !== "function") return undefined;
  return m as unknown as JitKernelApi;
}

/** Relaxed-SIMD FMA is in effect for kernels compiled in this process. */
export function fmaInEffect(api: JitKernelApi): boolean {
  const info = api.kernelInfo();
  return info.relaxedFma && info.config.fma;
}

/** The rows' facts: the settings the compiled program reports; throws when they contradict the label. */
function settingsFact(source: () => string | undefined, threads: number, fma: boolean): () => string {
  return () => {
    const s = kernelSettings(source());
    if (s !== undefined && (s.threads !== threads || s.fma !== fma)) {
      throw new Error(
        `the row is labelled ${threads} thread(s)${fma ? " with FMA" : ""}, but the compiled program runs ` +
          `${s.threads}${s.fma ? " with FMA" : " without FMA"}`,
      );
    }
    return programFact(source());
  };
}

/** W3: one SGD step compiled whole: valueAndGrad of the loss and the update in one `jit`. */
export function wholeStepTrainer(
  engine: Engine,
  api: JitKernelApi,
  variant: MlpVariant,
  threads: number,
  fma: boolean,
  label: string,
): Built {
  const { x, labels } = mlpTensors(variant);
  // the parameters are donated (each step consumes them, as jax-js's step does): the new ones are
  // written into their buffers, no new arrays per step
  const lr = variant.input.learningRate;
  const lossAndGrad = engine.valueAndGrad(mlpLoss, 0);
  const update = (p: Tensor, g: Tensor) => sub(p, mul(lr, g));
  const step = api.jit(
    (p: MlpParams, xs: Tensor, ys: Tensor): [Tensor, MlpParams] => {
      const [loss, g] = lossAndGrad(p, xs, ys);
      return [loss, { w1: update(p.w1, g.w1), b1: update(p.b1, g.b1), w2: update(p.w2, g.w2), b2: update(p.b2, g.b2) }];
    },
    { threads, donate: [0] },
  );
  let params = mlpTensors(variant).params;
  const run = (): number => {
    const [loss, next] = step(params, x, labels);
    params = next;
    return loss.item();
  };
  const result = () => {
    // the step consumes what it is given: a fresh copy of the initial parameters, read before
    const given = mlpTensors(variant).params;
    const before = {
      w1: Float64Array.from(given.w1.data),
      b1: Float64Array.from(given.b1.data),
      w2: Float64Array.from(given.w2.data),
      b2: Float64Array.from(given.b2.data),
    };
    const [loss, next] = step(given, x, labels);
    // the gradient the step applied, from p′ = p − lr·g (float32 rounding of p′ costs ~1e-5 relative here)
    const applied = (k: keyof MlpParams) => {
      const after = next[k].data;
      return before[k].map((p, j) => (p - after[j]!) / lr);
    };
    return mlpSegments({ loss: loss.item(), w1: applied("w1"), b1: applied("b1"), w2: applied("w2"), b2: applied("b2") });
  };
  return { case: { run }, result, label, facts: settingsFact(() => step.source, threads, fma) };
}

/** W5: the CNN's SGD step compiled whole (valueAndGrad and the update in one `jit`), params donated. */
export function wholeCnnStepTrainer(
  engine: Engine,
  api: JitKernelApi,
  variant: CnnVariant,
  threads: number,
  fma: boolean,
  label: string,
): Built {
  const { x, labels } = cnnTensors(variant);
  const lr = variant.input.learningRate;
  const keys = ["w1", "b1", "w2", "b2", "w3", "b3"] as const;
  const lossAndGrad = engine.valueAndGrad(cnnLoss, 0);
  const step = api.jit(
    (p: CnnParams, xs: Tensor, ys: Tensor): [Tensor, CnnParams] => {
      const [loss, g] = lossAndGrad(p, xs, ys) as [Tensor, CnnParams];
      const next = { ...p };
      for (const k of keys) next[k] = sub(p[k], mul(lr, g[k]));
      return [loss, next];
    },
    { threads, donate: [0] },
  );
  let params = cnnTensors(variant).params;
  const run = (): number => {
    const [loss, next] = step(params, x, labels);
    params = next;
    return loss.item();
  };
  const result = () => {
    const given = cnnTensors(variant).params;
    const before = Object.fromEntries(keys.map((k) => [k, Float64Array.from(given[k].data)])) as Record<
      (typeof keys)[number],
      Float64Array
    >;
    const [loss, next] = step(given, x, labels);
    // the gradient the step applied, from p′ = p − lr·g
    const applied = (k: (typeof keys)[number]) => {
      const after = next[k].data;
      return before[k].map((p, j) => (p - after[j]!) / lr);
    };
    return cnnSegments({
      loss: loss.item(),
      w1: applied("w1"),
      b1: applied("b1"),
      w2: applied("w2"),
      b2: applied("b2"),
      w3: applied("w3"),
      b3: applied("b3"),
    });
  };
  return { case: { run }, result, label, facts: settingsFact(() => step.source, threads, fma) };
}

/** W6: the conv compiled with explicit threads. */
export function kernelConv(api: JitKernelApi, variant: ConvVariant, threads: number, fma: boolean): Built {
  const { x, w } = convTensors(variant);
  const f = api.jit(conv3x3Same, { threads });
  const run = () => [f(x, w).data];
  return { case: { run }, result: run, facts: settingsFact(() => f.source, threads, fma) };
}

/** W4: the matmul compiled with explicit threads. */
export function kernelMatmul(api: JitKernelApi, variant: MatmulVariant, threads: number, fma: boolean): Built {
  const n = variant.input.size;
  const a = tensor(variant.input.a, { shape: [n, n] });
  const b = tensor(variant.input.b, { shape: [n, n] });
  const f = api.jit((p: Tensor, q: Tensor) => matmul(p, q), { threads });
  const run = () => f(a, b).data;
  return { case: { run }, result: run, facts: settingsFact(() => f.source, threads, fma) };
}

/**
 * Before the check and the timing of a two-thread row: the jit's second thread is running (the
 * package's `startThreads()`, where it has one; otherwise the warm-up starts it), so no sample
 * runs on one thread while the worker boots.
 */
function secondThreadStarted(api: JitKernelApi): () => Promise<void> {
  let started = false;
  return async () => {
    const start = (api as { startThreads?: (timeoutMs?: number) => Promise<boolean> }).startThreads;
    if (started || start === undefined) return;
    started = await start(30_000);
    if (!started) throw new Error("startThreads() did not start the second thread within 30 s");
  };
}

/** The kernel rows of this process: 1 and 2 threads, with FMA when it is in effect here. */
export function jitKernelImplementations(pkg: EnginePackage & { engine: Engine }): Implementation[] {
  const api = jitKernelApi(pkg);
  if (api === undefined) return [];
  const fma = fmaInEffect(api);
  return [1, 2].map((threads): Implementation => {
    return {
      id: kernelId(threads, fma),
      label: kernelLabel(threads, fma),
      group: "chainrule",
      build(variant: Variant): Built | Unsupported {
        if (variant.workload === "W1" || variant.workload === "W2")
          return { unsupported: "no matmul: the same generated JavaScript as the “chainrule jit” row", quiet: true };
        const info = api.kernelInfo();
        if (threads > 1 && !info.threads) {
          const why = (info as { threadsUnavailable?: string }).threadsUnavailable ?? "no workers or shared memory";
          return { unsupported: `kernelInfo().threads is false (${why}): the kernels would run one thread` };
        }
        const whole = kernelLabel(threads, fma, "whole step jitted, params donated, ");
        const built =
          variant.workload === "W3"
            ? wholeStepTrainer(pkg.engine, api, variant, threads, fma, whole)
            : variant.workload === "W5"
              ? wholeCnnStepTrainer(pkg.engine, api, variant, threads, fma, whole)
              : variant.workload === "W6"
                ? kernelConv(api, variant, threads, fma)
                : kernelMatmul(api, variant, threads, fma);
        return threads > 1 ? { ...built, case: { ...built.case, prepare: secondThreadStarted(api) } } : built;
      },
    };
  });
}
